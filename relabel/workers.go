package relabel

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// collector receives a run's events; runWorkers calls it from one goroutine only.
type collector struct {
	skip   func(path, why string)
	fail   func(Failure)
	result func(fileResult)
}

// runWorkers walks o.Paths and feeds the files to o.Workers workers, one result at a
// time to c. Memory stays flat: paths stream through small buffered channels.
func runWorkers(ctx context.Context, o *Options, c collector, newWorker func() func(walkItem) fileResult) error {
	start := time.Now()
	events := make(chan func(), 64) // skips and walk errors, serialised with results
	var found, foundBytes, done, doneBytes atomic.Int64
	var walkDone atomic.Bool
	w := &walker{
		root:      o.Root,
		oneFS:     !o.CrossFilesystems,
		excludes:  o.Exclude,
		skipped:   func(p, why string) { events <- func() { c.skip(p, why) } },
		walkError: func(p string, err error) { events <- func() { c.fail(Failure{Path: p, Error: err.Error()}) } },
	}
	items := make(chan walkItem, 4*o.Workers)
	results := make(chan fileResult, 4*o.Workers)
	walked := make(chan struct{})
	go func() {
		defer close(items)
		defer close(walked)
		counted := make(chan walkItem)
		go func() {
			defer close(counted)
			w.walk(ctx, o.Paths, counted)
		}()
		for it := range counted {
			found.Add(1)
			foundBytes.Add(it.size)
			items <- it
		}
		walkDone.Store(true)
	}()
	var wg sync.WaitGroup
	for i := 0; i < o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do := newWorker()
			for it := range items {
				if ctx.Err() != nil {
					it.discard()
					continue // drain so the walker ends
				}
				results <- do(it)
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	report := func() {
		if o.Progress != nil {
			o.Progress(Progress{Files: done.Load(), Bytes: doneBytes.Load(), Found: found.Load(),
				FoundBytes: foundBytes.Load(), WalkDone: walkDone.Load(), Elapsed: time.Since(start)})
		}
	}
	tick := time.NewTicker(o.ProgressInterval)
	defer tick.Stop()
	for results != nil {
		select {
		case ev := <-events:
			ev()
		case r, ok := <-results:
			if !ok {
				results = nil
				break
			}
			done.Add(1)
			doneBytes.Add(r.bytes)
			if r.action == ActionFailed {
				c.fail(Failure{Path: r.path, Error: r.err.Error()})
			}
			c.result(r)
		case <-tick.C:
			report()
		}
	}
	<-walked
	for {
		select {
		case ev := <-events:
			ev()
			continue
		default:
		}
		break
	}
	report()
	return ctx.Err()
}

func sortFailures(f []Failure) {
	sort.Slice(f, func(i, j int) bool { return f[i].Path < f[j].Path })
}
