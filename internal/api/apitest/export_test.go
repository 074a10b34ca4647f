package apitest

import "time"

// SetTimer replaces the timer of the latency wait, so that tests see each
// wait begin and end it themselves instead of sleeping.
func (s *Server[F]) SetTimer(f func(d time.Duration) (<-chan time.Time, func() bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = f
}
