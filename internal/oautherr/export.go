package oautherr

import "sync/atomic"

// MaxDescription bounds an error_description kept from a server, in bytes.
const MaxDescription = maxField

// Sanitize prepares server-supplied text (an error_description, a JARM
// error's description) for an error value or a log line: it is cut to
// [MaxDescription] bytes on a character boundary, and control characters
// and invalid UTF-8 are replaced by U+FFFD. Every package of the module
// passes server text through it, so that it is bounded and cleaned the same
// way everywhere.
func Sanitize(s string) string { return sanitize(s, maxField) }

// Redact prepares text a server chose that may echo what a request to it
// carried: each whole occurrence of a secret (as is or form-encoded), then
// every JWT or piece of one (a run starting "eyJ"), becomes "[redacted]".
// leak reports that the result still holds 16 bytes of a secret (or a
// whole secret shorter than that): a cut or altered echo, which the caller
// must not show. Empty secrets are ignored.
func Redact(s string, secrets ...string) (redacted string, leak bool) {
	keep := withEncodings(secrets)
	s = redact(s, keep)
	return s, holdsSecret(s, keep)
}

// Exporter converts e into the public error type that a target of
// errors.As points to, and reports whether it did. The root package
// registers one (see [SetExporter]) so that every *Error in an error chain
// can be caught with errors.As(err, &target) where target is a
// *hardened.Error, whose fields go doc shows, although the packages that
// create the errors cannot import the root package.
type Exporter struct {
	// As fills target (a **hardened.Error) from e. It reports false for
	// any other target.
	As func(e *Error, target any) bool
	// Is reports whether target (a *hardened.Error) matches e: every
	// non-zero field of target equals e's. It reports false for any other
	// target.
	Is func(e *Error, target error) bool
}

var exporter atomic.Pointer[Exporter]

// SetExporter installs x. It is called once, from the root package's init.
func SetExporter(x *Exporter) { exporter.Store(x) }

// As implements the errors.As hook: it lets a public error type registered
// with [SetExporter] be the target.
func (e *Error) As(target any) bool {
	if x := exporter.Load(); x != nil && x.As != nil && e != nil {
		return x.As(e, target)
	}
	return false
}

// isExported handles an errors.Is target of the registered public type.
func (e *Error) isExported(target error) bool {
	if x := exporter.Load(); x != nil && x.Is != nil && e != nil {
		return x.Is(e, target)
	}
	return false
}
