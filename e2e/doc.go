// Package e2e holds the browser end-to-end tests of the vggo web app: they
// build the two wasm programs and the real server, start it with a fixture
// model, and drive Debian's chromium through chromedp. fixture_test.go
// prepares the fixture, harness_test.go runs the server and the browser;
// the journeys are in e2e_test.go (the app) and widget_test.go (the
// embeddable widget). Chromium is required: without it the tests fail,
// they are not skipped.
package e2e
