package pipeline

// OnFinish arranges for fn to be called exactly once when res has been
// used up: at once for a complete answer, and for a stream or a native
// body when it ends (err nil), breaks (the error) or is closed before its
// end (ErrClosedEarly). Stages that hold something for the life of a
// response (an in-flight count, a breaker probe, a deadline) release it
// here.
func OnFinish(res *Result, fn func(err error)) {
	switch {
	case res.Stream != nil:
		res.Stream = WrapStream(res.Stream, StreamHooks{OnDone: fn})
	case res.Native != nil && res.Native.Body != nil:
		res.Native.Body = WrapBody(res.Native.Body, BodyHooks{OnDone: fn})
	default:
		fn(nil)
	}
}
