package guardrails

import (
	"regexp"
	"slices"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
)

// Injection scores incoming messages for prompt injection and jailbreak
// attempts: every rule whose pattern occurs adds its weight once; a total
// at or above the threshold triggers the action.
type Injection struct {
	// Action is ActionFlag or ActionBlock.
	Action Action
	// Threshold is the score that triggers (default 1.0 when zero).
	Threshold float64
	Rules     []InjectionRule
	// Roles are the message roles checked (default user and tool: what
	// the client's users and tools wrote, not the operator's system
	// prompt).
	Roles []string
}

// InjectionRule is one heuristic.
type InjectionRule struct {
	Name string
	// Pattern is matched against the lower-cased text.
	Pattern *regexp.Regexp
	// Keywords, when set, are lower-case strings one of which is part of
	// every match: the pattern is only tried around them (a cheap
	// pre-filter that keeps long prompts cheap).
	Keywords []string
	Weight   float64
}

// BuiltinInjectionRules are heuristics for the common shapes of prompt
// injection: overriding earlier instructions, extracting the system
// prompt, switching persona, disabling safety, and forged role markers.
// Weights are tuned so one unambiguous phrase reaches the default
// threshold of 1.0 and weaker signals need company.
func BuiltinInjectionRules() []InjectionRule {
	const gap = `[^.!?\n]{0,40}?`
	return []InjectionRule{
		{
			Name: "ignore_instructions",
			Pattern: regexp.MustCompile(`\b(ignore|disregard|forget|override|skip|bypass)\b` + gap +
				`\b(previous|prior|above|earlier|preceding|all|any|your|system|initial|original)\b` + gap +
				`\b(instructions?|prompts?|rules|directions|guidelines|context|constraints|programming)\b`),
			Keywords: []string{"ignore", "disregard", "forget", "override", "skip", "bypass"},
			Weight:   1.0,
		},
		{
			Name: "reveal_system_prompt",
			Pattern: regexp.MustCompile(`\b(reveal|show|print|repeat|output|display|leak|tell me|give me|what (?:is|are|was|were))\b` + gap +
				`\b(system prompt|system message|initial instructions|hidden instructions|original instructions|your instructions|your prompt|instructions above)\b`),
			Keywords: []string{"prompt", "instructions", "system message"},
			Weight:   1.0,
		},
		{
			Name: "persona_switch",
			Pattern: regexp.MustCompile(`\byou are (now|no longer)\b|\bfrom now on,? you\b|\bact as (an? )?(unfiltered|uncensored|unrestricted|jailbroken|evil)\b|` +
				`\bpretend (to be|you are|you're)\b` + gap + `\b(no|without) (restrictions|limits|filters|rules|guidelines)\b`),
			Keywords: []string{"you are now", "you are no longer", "from now on", "act as", "pretend"},
			Weight:   0.5,
		},
		{
			Name:     "jailbreak_terms",
			Pattern:  regexp.MustCompile(`\b(do anything now|dan mode|developer mode|jailbreak(ed|ing)?|god mode|unrestricted mode|no ethical guidelines)\b`),
			Keywords: []string{"anything now", "dan mode", "developer mode", "jailbreak", "god mode", "unrestricted mode", "ethical guidelines"},
			Weight:   0.6,
		},
		{
			Name: "disable_safety",
			Pattern: regexp.MustCompile(`\b(bypass|disable|ignore|turn off|remove|deactivate|without)\b` + gap +
				`\b(safety|content|ethical|moral)?\s*(filters?|guardrails|safeguards|censorship|content polic(y|ies)|safety guidelines)\b`),
			Keywords: []string{"filter", "guardrail", "safeguard", "censor", "polic", "safety"},
			Weight:   0.6,
		},
		{
			Name:     "role_markers",
			Pattern:  regexp.MustCompile(`<\|(im_start|im_end|system|endoftext|start_header_id)\|>|\[/?(inst|system)\]|<<sys>>|(^|\n)\s*#{2,}\s*(system|instructions?)\s*:|(^|\n)\s*system\s*:\s`),
			Keywords: []string{"<|", "[inst", "[/inst", "[system", "<<sys", "##", "system"},
			Weight:   0.7,
		},
		{
			Name:     "new_instructions",
			Pattern:  regexp.MustCompile(`\b(new|updated|real|actual|true|secret) (instructions?|rules|task|system prompt)\s*:`),
			Keywords: []string{"instruction", "rules", "task", "system prompt"},
			Weight:   0.4,
		},
	}
}

// score returns the injection score of the texts and the rules that
// matched.
func (in *Injection) score(texts []string) (float64, []string) {
	var total float64
	var matched []string
	lowered := make([]string, len(texts))
	for i, t := range texts {
		lowered[i] = strings.ToLower(t)
	}
	for i := range in.Rules {
		r := &in.Rules[i]
		for _, t := range lowered {
			if r.matches(t) {
				total += r.Weight
				matched = append(matched, r.Name)
				break
			}
		}
	}
	return total, matched
}

// injectionWindow is how far around a keyword a pattern is tried: more
// than the longest match of a built-in pattern on either side.
const injectionWindow = 160

// matches tries the pattern where it can match: around the occurrences of
// its keywords (each keyword is part of every match), or, without
// keywords, on the whole text. So a long prompt costs a scan for the
// keywords, and the regular expression runs on a few short windows.
func (r *InjectionRule) matches(lower string) bool {
	if len(r.Keywords) == 0 {
		return r.Pattern.MatchString(lower)
	}
	var spans [][2]int
	for _, k := range r.Keywords {
		for i := 0; i < len(lower); {
			j := strings.Index(lower[i:], k)
			if j < 0 {
				break
			}
			j += i
			spans = append(spans, [2]int{max(0, j-injectionWindow), min(len(lower), j+len(k)+injectionWindow)})
			i = j + len(k)
		}
	}
	if len(spans) == 0 {
		return false
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	cur := spans[0]
	for _, sp := range spans[1:] {
		if sp[0] <= cur[1] {
			cur[1] = max(cur[1], sp[1])
			continue
		}
		if r.Pattern.MatchString(lower[cur[0]:cur[1]]) {
			return true
		}
		cur = sp
	}
	return r.Pattern.MatchString(lower[cur[0]:cur[1]])
}

// injectionTexts collects the texts of the checked roles.
func (in *Injection) texts(req *llm.ChatRequest) []string {
	roles := in.Roles
	if len(roles) == 0 {
		roles = []string{llm.RoleUser, llm.RoleTool}
	}
	var out []string
	for i := range req.Messages {
		m := &req.Messages[i]
		for _, r := range roles {
			if m.Role == r {
				if t := m.Content.Text(); t != "" {
					out = append(out, t)
				}
				break
			}
		}
	}
	return out
}

func (in *Injection) threshold() float64 {
	if in.Threshold <= 0 {
		return 1.0
	}
	return in.Threshold
}
