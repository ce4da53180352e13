// Package anthropic is the adapter for Anthropic's Messages API
// (POST {base}/v1/messages with x-api-key and anthropic-version), and the
// home of the pure converters between that wire format and the gateway's
// canonical (OpenAI chat) form, which the /v1/messages ingress shares.
//
// The converters (wire.go, request.go, response.go, decode.go, encode.go,
// errors.go) do no I/O and read no clock; a test keeps net/http out of
// them. The I/O lives in adapter.go and forward.go.
//
// Translation choices where the two formats differ:
//
//   - system and developer messages, wherever they appear, become the
//     top-level system prompt, in order.
//   - max_tokens is required by Anthropic: DefaultMaxTokens when the
//     request has none.
//   - response_format json_schema becomes Anthropic structured outputs
//     (output_config.format); json_object, which Anthropic has no mode for,
//     becomes an instruction appended to the system prompt.
//   - consecutive tool messages become tool_result blocks of one user turn;
//     consecutive turns of the same role are merged, as Anthropic expects.
//   - parameters without an Anthropic equivalent (n > 1, audio input) are
//     refused with a 400; seed, penalties, logit_bias and reasoning_effort
//     are dropped. top_k and thinking pass through from extra members.
//   - thinking blocks become reasoning_content and back; redacted thinking
//     and server tool blocks have no canonical form and are dropped.
package anthropic
