package usage

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// errNothingToReplay says the spill holds no records.
var errNothingToReplay = errors.New("nothing to replay")

// errSpillFull says the spill file reached its size bound.
var errSpillFull = errors.New("spill file is full")

// spill is the overflow file: JSON lines of finalised records. Appends go
// to the active file; a replay renames the active file aside
// (PATH.<nanos>.replay) and feeds the renamed files to the store, removing
// each when all of its records are in. A crash during replay replays the
// file again, which is harmless because inserts ignore known ids.
type spill struct {
	path string
	max  int64

	mu    sync.Mutex
	f     *os.File
	bw    *bufio.Writer
	dirty bool
	total int64 // bytes in the active and the renamed files
	// corrupt counts lines that could not be decoded (a torn last line
	// after a crash); the writer counts them as dropped.
	corrupt int

	// replay position, touched only by the writer goroutine
	current string
	offset  int64
}

func newSpill(path string, max int64) *spill {
	s := &spill{path: path, max: max}
	for _, p := range append(s.replayFiles(), path) {
		if fi, err := os.Stat(p); err == nil {
			s.total += fi.Size()
		}
	}
	return s
}

func (s *spill) size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

func (s *spill) takeCorrupt() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.corrupt
	s.corrupt = 0
	return n
}

// append writes records and returns how many it took.
func (s *spill) append(recs []*Record) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
			return 0, fmt.Errorf("creating spill dir: %w", err)
		}
		f, err := os.OpenFile(s.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return 0, fmt.Errorf("opening spill file: %w", err)
		}
		s.f, s.bw = f, bufio.NewWriterSize(f, 64<<10)
	}
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return i, fmt.Errorf("encoding spilled record: %w", err)
		}
		if s.total+int64(len(b))+1 > s.max {
			return i, errSpillFull
		}
		if _, err := s.bw.Write(append(b, '\n')); err != nil {
			return i, fmt.Errorf("writing spill file: %w", err)
		}
		s.total += int64(len(b)) + 1
		s.dirty = true
	}
	return len(recs), nil
}

// flush pushes buffered lines to the file and syncs it.
func (s *spill) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

func (s *spill) flushLocked() error {
	if s.bw == nil || !s.dirty {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("flushing spill file: %w", err)
	}
	s.dirty = false
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("syncing spill file: %w", err)
	}
	return nil
}

// rotate moves the active file aside for replay.
func (s *spill) rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flushLocked(); err != nil {
		return err
	}
	if s.f != nil {
		s.f.Close()
		s.f, s.bw = nil, nil
	}
	fi, err := os.Stat(s.path)
	if err != nil || fi.Size() == 0 {
		return errNothingToReplay
	}
	return os.Rename(s.path, s.path+"."+strconv.FormatInt(time.Now().UnixNano(), 10)+".replay")
}

// replayFiles lists the renamed files, oldest first.
func (s *spill) replayFiles() []string {
	files, _ := filepath.Glob(s.path + ".*.replay")
	sort.Strings(files) // same-length nanosecond stamps sort by time
	return files
}

// replay inserts up to max records from the spill in batches and returns
// how many went in.
func (s *spill) replay(max, batchSize int, insert func([]*Record) error) (int, error) {
	files := s.replayFiles()
	if len(files) == 0 {
		if err := s.rotate(); err != nil {
			return 0, err
		}
		files = s.replayFiles()
	}
	n := 0
	for _, file := range files {
		if n >= max {
			break
		}
		done, err := s.replayFile(file, max-n, batchSize, insert)
		n += done
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *spill) replayFile(file string, max, batchSize int, insert func([]*Record) error) (int, error) {
	if s.current != file {
		s.current, s.offset = file, 0
	}
	f, err := os.Open(file)
	if err != nil {
		return 0, fmt.Errorf("opening spill file: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		return 0, fmt.Errorf("seeking spill file: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	n := 0
	var batch []*Record
	var batchBytes int64
	commit := func() error {
		if len(batch) > 0 {
			if err := insert(batch); err != nil {
				return err
			}
			n += len(batch)
		}
		s.offset += batchBytes
		batch, batchBytes = batch[:0], 0
		return nil
	}
	for n+len(batch) < max {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			batchBytes += int64(len(line))
			r := &Record{}
			if err := json.Unmarshal(line, r); err != nil || r.ID == "" {
				s.mu.Lock()
				s.corrupt++
				s.mu.Unlock()
			} else {
				batch = append(batch, r)
			}
			if len(batch) >= batchSize {
				if err := commit(); err != nil {
					return n, err
				}
			}
		}
		if rerr == io.EOF {
			if err := commit(); err != nil {
				return n, err
			}
			f.Close()
			if err := os.Remove(file); err != nil {
				return n, fmt.Errorf("removing replayed spill file: %w", err)
			}
			s.mu.Lock()
			s.total -= s.offset
			if s.total < 0 {
				s.total = 0
			}
			s.mu.Unlock()
			s.current, s.offset = "", 0
			return n, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("reading spill file: %w", rerr)
		}
	}
	return n, commit()
}
