package bedrock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
)

// TestFrameCorruption flips every byte of a valid stream in turn: the
// decoder must report an error (a CRC or length check), never pass the
// corruption on silently or panic.
func TestFrameCorruption(t *testing.T) {
	data, _ := loadStream(t, "testdata/streams/text.json")
	want := mustJSON(t, decodeStream(data, len(data), false))
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x20
		res := decodeStream(bad, len(bad), false)
		if res.Error == "" && string(mustJSON(t, res)) != string(want) {
			t.Fatalf("flipping byte %d changed the output without an error", i)
		}
		if res.Error == "" {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
}

func TestFrameLengthLimits(t *testing.T) {
	for _, tc := range []struct {
		name           string
		total, headers uint32
	}{
		{"shorter than the minimum", 15, 0},
		{"headers longer than the frame", 40, 30},
		{"larger than 16 MiB", 16<<20 + 1, 0},
		{"headers over 128 KiB", 1 << 20, 128<<10 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p [12]byte
			binary.BigEndian.PutUint32(p[0:], tc.total)
			binary.BigEndian.PutUint32(p[4:], tc.headers)
			binary.BigEndian.PutUint32(p[8:], crc32.ChecksumIEEE(p[:8]))
			_, err := newFrameReader(bytes.NewReader(p[:])).next()
			if !errors.Is(err, errFrame) {
				t.Fatalf("err = %v, want a frame error", err)
			}
		})
	}
	if _, err := newFrameReader(bytes.NewReader(nil)).next(); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	if _, err := newFrameReader(bytes.NewReader([]byte{0, 0})).next(); err != io.ErrUnexpectedEOF {
		t.Errorf("cut prelude: %v, want io.ErrUnexpectedEOF", err)
	}
}
