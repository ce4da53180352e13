package usage

import (
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"

	"github.com/aigateway/aigateway/internal/llm"
)

// Estimator counts tokens offline with OpenAI's BPE vocabularies (shipped in
// the binary; nothing is downloaded). It is exact for OpenAI models and an
// approximation for others, which is why estimated records say so. Safe
// for concurrent use.
type Estimator struct {
	o200k, cl100k *encoding
}

// encoding is a vocabulary loaded on first use, by the first call that
// needs an estimate (about 200 ms and 20 MB of heap for o200k_base). It is
// not loaded at startup: providers report usage for almost every call, so
// most gateways never need it and an idle one stays small. Concurrent
// first callers wait for that one load; calls that need no estimate never
// touch it. Loaded vocabularies are immutable and shared by every
// Estimator of the process, so they load once however many gateways a
// process builds.
type encoding struct {
	name string
	once sync.Once
	enc  *tiktoken.Tiktoken
}

var (
	sharedO200k  = &encoding{name: tiktoken.MODEL_O200K_BASE}
	sharedCl100k = &encoding{name: tiktoken.MODEL_CL100K_BASE}
	// loaderOnce installs the offline loader: tiktoken-go keeps its loader
	// in a package variable, and its default one would download.
	loaderOnce sync.Once
)

// NewEstimator returns an estimator; vocabularies load on first use.
func NewEstimator() *Estimator {
	return &Estimator{o200k: sharedO200k, cl100k: sharedCl100k}
}

func (e *encoding) get() *tiktoken.Tiktoken {
	e.once.Do(func() {
		loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
		enc, err := tiktoken.GetEncoding(e.name)
		if err == nil {
			e.enc = enc
		}
	})
	return e.enc
}

// encodingFor picks the vocabulary of model: cl100k_base for GPT-4, GPT-3.5
// and the embedding models, o200k_base for everything newer and as the
// stand-in for other vendors' models.
func (e *Estimator) encodingFor(model string) *encoding {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		model = model[i+1:]
	}
	m := strings.ToLower(model)
	if strings.HasPrefix(m, "gpt-3.5") || strings.HasPrefix(m, "text-embedding-") ||
		(strings.HasPrefix(m, "gpt-4") && !strings.HasPrefix(m, "gpt-4o") &&
			!strings.HasPrefix(m, "gpt-4.")) {
		return e.cl100k
	}
	return e.o200k
}

// Tokens counts the tokens of text for model. When the vocabulary cannot be
// loaded it falls back to one token per four bytes.
func (e *Estimator) Tokens(model, text string) int {
	if text == "" {
		return 0
	}
	enc := e.encodingFor(model).get()
	if enc == nil {
		return (len(text) + 3) / 4
	}
	return len(enc.EncodeOrdinary(text))
}

// Chat message framing, as in OpenAI's published counting recipe: every
// message costs a few tokens beyond its text, and the reply is primed with
// three more.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensReply      = 3
)

// ChatPrompt estimates the prompt tokens of req (text, names, tool calls
// and tool definitions; images and audio are not counted).
func (e *Estimator) ChatPrompt(model string, req *llm.ChatRequest) int {
	if req == nil {
		return 0
	}
	var b strings.Builder
	n := tokensReply
	for i := range req.Messages {
		m := &req.Messages[i]
		n += tokensPerMessage
		b.WriteString(m.Role)
		b.WriteByte('\n')
		b.WriteString(m.Content.Text())
		if m.Name != "" {
			n += tokensPerName
			b.WriteString(m.Name)
		}
		for _, tc := range m.ToolCalls {
			b.WriteString(tc.Function.Name)
			b.WriteString(tc.Function.Arguments)
		}
		b.WriteByte('\n')
	}
	for _, t := range req.Tools {
		b.WriteString(t.Function.Name)
		b.WriteString(t.Function.Description)
		b.Write(t.Function.Parameters)
	}
	return n + e.Tokens(model, b.String())
}

// ChatAnswer estimates the completion tokens of a response.
func (e *Estimator) ChatAnswer(model string, resp *llm.ChatResponse) int {
	if resp == nil {
		return 0
	}
	var b strings.Builder
	for i := range resp.Choices {
		appendMessageText(&b, &resp.Choices[i].Message)
	}
	return e.Tokens(model, b.String())
}

func appendMessageText(b *strings.Builder, m *llm.Message) {
	b.WriteString(m.ReasoningContent)
	b.WriteString(m.Content.Text())
	if m.Refusal != nil {
		b.WriteString(*m.Refusal)
	}
	for _, tc := range m.ToolCalls {
		b.WriteString(tc.Function.Name)
		b.WriteString(tc.Function.Arguments)
	}
}

// Embedding estimates the input tokens of an embeddings request; token-array
// input counts as zero (the provider always reports usage for it anyway).
func (e *Estimator) Embedding(model string, req *llm.EmbedRequest) int {
	if req == nil {
		return 0
	}
	texts, err := req.Texts()
	if err != nil {
		return 0
	}
	n := 0
	for _, t := range texts {
		n += e.Tokens(model, t)
	}
	return n
}
