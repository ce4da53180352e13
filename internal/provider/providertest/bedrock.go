package providertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BedrockOptions tune the fake Bedrock runtime.
type BedrockOptions struct {
	Options
	// AccessKeyID and SecretAccessKey are the credentials whose SigV4
	// signatures the fake accepts; Region is the region they must name.
	AccessKeyID, SecretAccessKey, Region string
}

// Bedrock is a fake Amazon Bedrock runtime: POST /model/{modelId}/converse
// and /model/{modelId}/converse-stream, the latter answering in the real
// binary event-stream framing (application/vnd.amazon.eventstream, CRCs
// and all).
//
// Every request must carry a SigV4 Authorization header for the fake's
// credentials, region and the "bedrock" service; the fake recomputes the
// signature over the headers the request says it signed and refuses a
// mismatch with 403 InvalidSignatureException, as AWS does. (A Bedrock API
// key, Authorization: Bearer Options.APIKey, is accepted when set.)
//
// It validates Converse input as Bedrock does where the gateway could get
// it wrong: known members only, roles alternating from user, one member
// per content block, toolUse/toolResult only with a toolConfig and with
// matching ids. Besides the shared faults (error-NNN, hang, slow-N) the
// model ids mean:
//
//	break       a stream cut after its first event
//	exception   a stream that sends a throttlingException after its first event
//	tools       calls get_weather({"city":"Paris"}); once the last user
//	            turn holds a toolResult, answers FakeWeather(its text)
//
// A request that forces a tool (toolChoice.tool) gets a call of that tool
// with input {"echo": the last user text}.
type Bedrock struct {
	recorder
	opts   BedrockOptions
	signer *v4.Signer
}

// NewBedrock returns a fake Bedrock runtime.
func NewBedrock(o BedrockOptions) *Bedrock {
	return &Bedrock{opts: o, signer: v4.NewSigner()}
}

// WriteBedrockError writes a Bedrock error: {"message":…} with the
// x-amzn-errortype header.
func WriteBedrockError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("x-amzn-errortype", bedrockErrorType(status)+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	writeJSON(w, status, map[string]string{"message": msg})
}

func bedrockErrorType(status int) string {
	switch status {
	case 400:
		return "ValidationException"
	case 403:
		return "AccessDeniedException"
	case 404:
		return "ResourceNotFoundException"
	case 408:
		return "ModelTimeoutException"
	case 429:
		return "ThrottlingException"
	case 503:
		return "ServiceUnavailableException"
	}
	return "InternalServerException"
}

func (f *Bedrock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, b := f.record(r)
	if typ, msg := f.checkAuth(r, body); typ != "" {
		w.Header().Set("x-amzn-errortype", typ+":http://internal.amazon.com/coral/com.amazon.coral.service/")
		writeJSON(w, http.StatusForbidden, map[string]string{"message": msg})
		return
	}
	if b != nil && b(w, r, body) {
		return
	}
	if f.opts.Latency > 0 && !sleepCtx(r, f.opts.Latency) {
		f.Cancelled.Add(1)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/model/")
	seg, op, ok2 := strings.Cut(rest, "/")
	model, err := url.PathUnescape(seg)
	if !ok || !ok2 || err != nil || r.Method != http.MethodPost || (op != "converse" && op != "converse-stream") {
		WriteBedrockError(w, http.StatusNotFound, "The requested operation is not recognized by the service: "+r.Method+" "+r.URL.Path)
		return
	}
	if f.fault(w, r, model, WriteBedrockError) {
		return
	}
	f.converse(w, r, model, body, op == "converse-stream")
	f.Served.Add(1)
}

// checkAuth verifies the request's SigV4 signature; it returns the AWS
// error type and message on failure, or "".
func (f *Bedrock) checkAuth(r *http.Request, body []byte) (string, string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "MissingAuthenticationTokenException", "Missing Authentication Token"
	}
	if f.opts.APIKey != "" && auth == "Bearer "+f.opts.APIKey {
		return "", ""
	}
	const alg = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, alg) {
		return "IncompleteSignatureException", "Authorization header requires the AWS4-HMAC-SHA256 algorithm"
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(auth, alg), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	signed := fields["SignedHeaders"]
	if len(cred) != 5 || signed == "" || len(fields["Signature"]) != 64 {
		return "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature"
	}
	amzDate := r.Header.Get("X-Amz-Date")
	when, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return "IncompleteSignatureException", "X-Amz-Date is missing or malformed"
	}
	if cred[0] != f.opts.AccessKeyID {
		return "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	if cred[1] != when.Format("20060102") || cred[2] != f.opts.Region || cred[3] != "bedrock" || cred[4] != "aws4_request" {
		return "InvalidSignatureException", "Credential should be scoped to a valid region, service and date: " + fields["Credential"]
	}
	names := strings.Split(signed, ";")
	hasHost, hasDate := false, false
	for _, n := range names {
		hasHost = hasHost || n == "host"
		hasDate = hasDate || n == "x-amz-date"
	}
	if !hasHost || !hasDate {
		return "InvalidSignatureException", "SignedHeaders must include host and x-amz-date"
	}
	// Sign the same request again with the fake's secret and compare.
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	again, _ := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	again.URL = &u
	again.Host = r.Host
	again.ContentLength = 0
	for _, n := range names {
		switch n {
		case "host":
		case "content-length":
			again.ContentLength = r.ContentLength
		default:
			again.Header[http.CanonicalHeaderKey(n)] = r.Header.Values(n)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: f.opts.AccessKeyID, SecretAccessKey: f.opts.SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := f.signer.SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), "bedrock", f.opts.Region, when); err != nil {
		return "InvalidSignatureException", err.Error()
	}
	if again.Header.Get("Authorization") != auth {
		return "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
	}
	return "", ""
}

type bedrockBlock struct {
	Text  *string `json:"text"`
	Image *struct {
		Format string `json:"format"`
		Source struct {
			Bytes string `json:"bytes"`
		} `json:"source"`
	} `json:"image"`
	Document *struct {
		Format string `json:"format"`
		Name   string `json:"name"`
	} `json:"document"`
	ToolUse *struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	} `json:"toolUse"`
	ToolResult *struct {
		ToolUseID string `json:"toolUseId"`
		Content   []struct {
			Text *string         `json:"text"`
			JSON json.RawMessage `json:"json"`
		} `json:"content"`
	} `json:"toolResult"`
	ReasoningContent json.RawMessage `json:"reasoningContent"`
}

type bedrockRequest struct {
	Messages []struct {
		Role    string         `json:"role"`
		Content []bedrockBlock `json:"content"`
	} `json:"messages"`
	ToolConfig *struct {
		Tools []struct {
			ToolSpec struct {
				Name        string `json:"name"`
				InputSchema struct {
					JSON json.RawMessage `json:"json"`
				} `json:"inputSchema"`
			} `json:"toolSpec"`
		} `json:"tools"`
		ToolChoice *struct {
			Tool *struct {
				Name string `json:"name"`
			} `json:"tool"`
		} `json:"toolChoice"`
	} `json:"toolConfig"`
}

var bedrockKeys = map[string]bool{
	"messages": true, "system": true, "inferenceConfig": true, "toolConfig": true,
	"guardrailConfig": true, "additionalModelRequestFields": true, "promptVariables": true,
	"additionalModelResponseFieldPaths": true, "requestMetadata": true, "performanceConfig": true,
}

// validate returns what Bedrock would say about the request, or "".
func (req *bedrockRequest) validate(raw map[string]json.RawMessage) string {
	for k := range raw {
		if !bedrockKeys[k] {
			return fmt.Sprintf("Malformed input request: extraneous key [%s] is not permitted, please reformat your input and try again.", k)
		}
	}
	if len(req.Messages) == 0 {
		return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	}
	declared := map[string]bool{}
	if req.ToolConfig != nil {
		if len(req.ToolConfig.Tools) == 0 {
			return "The value at toolConfig.tools must be a non-empty list"
		}
		for _, t := range req.ToolConfig.Tools {
			declared[t.ToolSpec.Name] = true
			if len(t.ToolSpec.InputSchema.JSON) == 0 {
				return "The value at toolConfig.tools.inputSchema.json is required"
			}
		}
	}
	uses := map[string]bool{}
	for i, m := range req.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."
		}
		if len(m.Content) == 0 {
			return fmt.Sprintf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		for j, b := range m.Content {
			n := 0
			for _, set := range []bool{b.Text != nil, b.Image != nil, b.Document != nil, b.ToolUse != nil, b.ToolResult != nil, b.ReasoningContent != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return fmt.Sprintf("messages.%d.content.%d: a content block must have exactly one member", i, j)
			}
			switch {
			case b.Text != nil && strings.TrimSpace(*b.Text) == "":
				return fmt.Sprintf("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
			case b.Image != nil:
				switch b.Image.Format {
				case "png", "jpeg", "gif", "webp":
				default:
					return fmt.Sprintf("messages.%d.content.%d.image.format: unsupported format %q", i, j, b.Image.Format)
				}
				if _, err := base64.StdEncoding.DecodeString(b.Image.Source.Bytes); err != nil {
					return fmt.Sprintf("messages.%d.content.%d.image.source.bytes: invalid base64", i, j)
				}
			case b.ToolUse != nil:
				if req.ToolConfig == nil {
					return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
				}
				if m.Role != "assistant" || len(b.ToolUse.Input) == 0 || b.ToolUse.Input[0] != '{' {
					return fmt.Sprintf("messages.%d.content.%d.toolUse: must be in an assistant turn with an object input", i, j)
				}
				uses[b.ToolUse.ToolUseID] = true
			case b.ToolResult != nil:
				if req.ToolConfig == nil {
					return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
				}
				if !uses[b.ToolResult.ToolUseID] {
					return fmt.Sprintf("messages.%d.content.%d: toolResult %q matches no toolUse of the previous turn", i, j, b.ToolResult.ToolUseID)
				}
			}
		}
	}
	if req.Messages[len(req.Messages)-1].Role != "user" {
		return "A conversation must end with a user message."
	}
	return ""
}

func (f *Bedrock) converse(w http.ResponseWriter, r *http.Request, model string, body []byte, stream bool) {
	var raw map[string]json.RawMessage
	var req bedrockRequest
	if json.Unmarshal(body, &raw) != nil || json.Unmarshal(body, &req) != nil {
		WriteBedrockError(w, http.StatusBadRequest, "Malformed input request, please reformat your input and try again.")
		return
	}
	if msg := req.validate(raw); msg != "" {
		WriteBedrockError(w, http.StatusBadRequest, msg)
		return
	}
	last := req.Messages[len(req.Messages)-1]
	var text strings.Builder
	var result *string
	for _, b := range last.Content {
		switch {
		case b.Text != nil:
			text.WriteString(*b.Text)
		case b.ToolResult != nil:
			var s strings.Builder
			for _, c := range b.ToolResult.Content {
				if c.Text != nil {
					s.WriteString(*c.Text)
				} else {
					s.Write(c.JSON)
				}
			}
			out := s.String()
			result = &out
		}
	}
	reply := f.opts.Reply
	if reply == "" {
		reply = "Hello from fake: " + text.String()
	}
	type call struct {
		id, name string
		input    string
	}
	var tc *call
	switch {
	case req.ToolConfig != nil && req.ToolConfig.ToolChoice != nil && req.ToolConfig.ToolChoice.Tool != nil:
		in, _ := json.Marshal(map[string]string{"echo": text.String()})
		tc = &call{id: "tooluse_forced1", name: req.ToolConfig.ToolChoice.Tool.Name, input: string(in)}
	case model == "tools" && result == nil:
		tc = &call{id: "tooluse_Fake0Weather1", name: "get_weather", input: `{"city":"Paris"}`}
	case model == "tools":
		reply = FakeWeather(*result)
	}
	prompt := 0
	for _, m := range req.Messages {
		for _, b := range m.Content {
			if b.Text != nil {
				prompt += words(*b.Text) + 2
			} else {
				prompt += 10
			}
		}
	}
	completion := words(reply)
	stop := "end_turn"
	if tc != nil {
		completion, stop = 12, "tool_use"
	}
	usage := map[string]int{"inputTokens": prompt, "outputTokens": completion, "totalTokens": prompt + completion}
	w.Header().Set("x-amzn-requestid", "fake-req-0001")
	if !stream {
		content := []any{map[string]any{"text": reply}}
		if tc != nil {
			content = []any{map[string]any{"toolUse": map[string]any{"toolUseId": tc.id, "name": tc.name, "input": json.RawMessage(tc.input)}}}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
			"stopReason": stop, "usage": usage, "metrics": map[string]int{"latencyMs": 42},
		})
		return
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	enc := eventstream.NewEncoder()
	n := 0
	send := func(typ string, payload map[string]any) bool {
		if n > 0 && f.opts.ChunkDelay > 0 && !sleepCtx(r, f.opts.ChunkDelay) {
			f.Cancelled.Add(1)
			return false
		}
		n++
		payload["p"] = "abcdefghijklmnopqrstuvwxyz"[:n%26] // AWS pads payloads
		b, _ := json.Marshal(payload)
		if err := enc.Encode(w, BedrockEvent(typ, b)); err != nil {
			f.Cancelled.Add(1)
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	if !send("messageStart", map[string]any{"role": "assistant"}) {
		return
	}
	if model == "exception" {
		_ = enc.Encode(w, BedrockException("throttlingException", "Too many requests, please wait before trying again."))
		return
	}
	if tc != nil {
		if !send("contentBlockStart", map[string]any{"contentBlockIndex": 0, "start": map[string]any{"toolUse": map[string]any{"toolUseId": tc.id, "name": tc.name}}}) {
			return
		}
		half := len(tc.input) / 2
		for _, part := range []string{tc.input[:half], tc.input[half:]} {
			if !send("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"toolUse": map[string]any{"input": part}}}) {
				return
			}
		}
	} else {
		for i, word := range strings.SplitAfter(reply, " ") {
			if model == "break" && i == 1 {
				cut(w)
				return
			}
			if !send("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": word}}) {
				return
			}
		}
	}
	if send("contentBlockStop", map[string]any{"contentBlockIndex": 0}) && send("messageStop", map[string]any{"stopReason": stop}) {
		send("metadata", map[string]any{"usage": usage, "metrics": map[string]int{"latencyMs": 42}})
	}
}

// BedrockEvent is a ConverseStream event message.
func BedrockEvent(typ string, payload []byte) eventstream.Message {
	return eventstream.Message{
		Headers: eventstream.Headers{
			{Name: ":event-type", Value: eventstream.StringValue(typ)},
			{Name: ":content-type", Value: eventstream.StringValue("application/json")},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		},
		Payload: payload,
	}
}

// BedrockException is an exception message of an event stream.
func BedrockException(typ, msg string) eventstream.Message {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return eventstream.Message{
		Headers: eventstream.Headers{
			{Name: ":exception-type", Value: eventstream.StringValue(typ)},
			{Name: ":content-type", Value: eventstream.StringValue("application/json")},
			{Name: ":message-type", Value: eventstream.StringValue("exception")},
		},
		Payload: b,
	}
}

// EncodeBedrockStream encodes messages in the event-stream framing.
func EncodeBedrockStream(w io.Writer, msgs ...eventstream.Message) error {
	enc := eventstream.NewEncoder()
	for _, m := range msgs {
		if err := enc.Encode(w, m); err != nil {
			return err
		}
	}
	return nil
}
