package main

// watchResize is a no-op on Windows, which has no SIGWINCH: the width read
// at start-up stays.
func watchResize(onResize func()) (stop func()) { return func() {} }
