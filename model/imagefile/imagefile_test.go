package imagefile

import "testing"

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		size      int64
		mediaType string
		want      string // "" = accepted
	}{
		{1234, "image/png", ""},
		{1234, "", ""},
		{MaxBytes, "image/jpeg", ""},
		{0, "image/png", "cat.jpg: file is empty"},
		{MaxBytes + 1, "image/jpeg", "cat.jpg: file is 64.0 MB, larger than the 64 MB limit"},
		{65 << 20, "", "cat.jpg: file is 65.0 MB, larger than the 64 MB limit"},
		{1234, "text/plain", "cat.jpg: not an image (type text/plain)"},
	} {
		err := Check("cat.jpg", c.size, c.mediaType)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("Check(%d, %q) = %q, want %q", c.size, c.mediaType, got, c.want)
		}
	}
}
