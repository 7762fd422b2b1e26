// Package archtest holds no code, only the test that keeps the architecture
// honest: imports point one way (cmd -> armapi -> engine -> store -> the
// pure core), and the pure packages neither do I/O nor read the time.
//
// It imports nothing of the project; it reads the sources as text.
package archtest
