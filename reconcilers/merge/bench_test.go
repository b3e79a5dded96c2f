package merge

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// Scale of BenchmarkSync: 5,000 open pull requests in 50 repositories, one
// in ten approved.
const (
	benchRepos   = 50
	benchPerRepo = 100
)

// BenchmarkSync measures one sync over 5,000 open pull requests in 50
// repositories on the sandbox forge: the search, and the decision and tide
// status of every pool (the API server's side is left out; the pools'
// runs and statuses are kept in memory). Sub-benchmarks:
//
//   - unchanged: a sync in which nothing changed, the steady state between
//     webhooks (target: under 2 s and fewer than 100 GitHub requests);
//   - restart: the first sync of a newly elected controller, with an empty
//     store and ETag cache, the MergePools' statuses as the last leader
//     left them.
//
// Each reports GitHub requests per sync (calls/op), searches per sync and,
// for restart, the heap the controller keeps for 5,000 pull requests.
func BenchmarkSync(b *testing.B) {
	ctx := context.Background()
	bf := newBenchForge(b)
	set := benchSet()
	cfg, err := ConfigFrom(set)
	if err != nil {
		b.Fatal(err)
	}
	pools := &benchPools{status: map[poolKey]*v1alpha1.MergePoolStatus{}, runs: map[poolKey][]Run{}}

	// The very first sync writes every tide status.
	first := bf.syncer(b)
	start := time.Now()
	pools.sync(ctx, b, first, cfg)
	b.Logf("first sync ever: %s, %d GitHub requests", time.Since(start).Round(time.Millisecond), bf.calls.total.Swap(0))
	if testing.Verbose() {
		bf.calls.mu.Lock()
		kinds := map[string]int{}
		for k, v := range bf.calls.counts {
			kinds[pathKind(k)] += v
		}
		bf.calls.mu.Unlock()
		b.Logf("by kind: %v", kinds)
		open, inPool := 0, 0
		for _, st := range pools.status {
			open += int(st.Summary.Open)
			inPool += int(st.Summary.InPool)
		}
		b.Logf("%d pools, %d open, %d in pool", len(pools.status), open, inPool)
	}

	b.Run("unchanged", func(b *testing.B) {
		s := bf.syncer(b)
		pools.sync(ctx, b, s, cfg)
		bf.calls.total.Store(0)
		searches := bf.calls.get(isSearch)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			pools.sync(ctx, b, s, cfg)
		}
		b.ReportMetric(float64(bf.calls.total.Load())/float64(b.N), "calls/op")
		b.ReportMetric(float64(bf.calls.get(isSearch)-searches)/float64(b.N), "searches/op")
	})
	b.Run("restart", func(b *testing.B) {
		bf.calls.total.Store(0)
		var retained uint64
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			s := bf.syncer(b)
			b.StartTimer()
			pools.sync(ctx, b, s, cfg)
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			if after.HeapAlloc > before.HeapAlloc {
				retained = after.HeapAlloc - before.HeapAlloc
			}
			runtime.KeepAlive(s)
			b.StartTimer()
		}
		b.ReportMetric(float64(bf.calls.total.Load())/float64(b.N), "calls/op")
		b.ReportMetric(float64(retained)/(1<<20), "retained-MiB")
	})
}

// pathKind reduces a request to its kind for the log.
func pathKind(k string) string {
	if strings.HasSuffix(k, "/pulls") {
		return "GET list pulls"
	}
	for _, kind := range []string{"/search/", "/status", "/check-runs", "/statuses/", "/git/ref", "/files"} {
		if strings.Contains(k, kind) {
			return k[:strings.Index(k, " ")] + " " + kind
		}
	}
	if strings.Contains(k, "/pulls/") {
		return "GET /pulls/n"
	}
	return k
}

func isSearch(k string) bool { return len(k) > 11 && k[:11] == "GET /search" }

// benchForge is the sandbox forge with the benchmark's pull requests.
type benchForge struct {
	url   string
	calls *callCounter
}

func newBenchForge(b *testing.B) *benchForge {
	// The forge's clock moves a second at every reading, so that the pull
	// requests look made and updated over hours, not minutes: a search for
	// what changed in the last seconds finds a few, as it would on GitHub.
	var tick atomic.Int64
	t0 := time.Now().Add(-48 * time.Hour)
	clock := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	f, err := forge.New(forge.Options{RateLimit: 1 << 30, SearchRateLimit: 1 << 30, Now: clock})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	f.SetBaseURL(srv.URL)
	b.Cleanup(func() { srv.Close(); _ = f.Close() })
	ctx := context.Background()
	seed := &forge.Seed{
		Users: []forge.SeedUser{{Login: "bowline-bot", Token: "bot-token", Bot: true}, {Login: "alice"}},
		Orgs:  []forge.SeedOrg{{Login: "bench", Admins: []string{"bowline-bot"}, Members: []string{"alice"}, DefaultRepoPermission: "write"}},
	}
	for r := range benchRepos {
		seed.Repos = append(seed.Repos, forge.SeedRepo{Name: fmt.Sprintf("bench/r%02d", r), Files: map[string]string{"README.md": "x\n"},
			Labels: []forge.SeedLabel{{Name: "lgtm"}, {Name: "approved"}}})
	}
	if err := f.Seed(ctx, seed); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	alice, bot := f.As("alice"), f.As("bowline-bot")
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for r := range benchRepos {
		repo := fmt.Sprintf("bench/r%02d", r)
		g.Go(func() error {
			for i := range benchPerRepo {
				branch := fmt.Sprintf("change-%d", i)
				sha, err := alice.Push(gctx, repo, branch, map[string][]byte{branch + ".txt": []byte("x\n")}, "Change")
				if err != nil {
					return err
				}
				var pr struct{ Number int }
				if err := alice.Do(gctx, http.MethodPost, "/repos/"+repo+"/pulls", map[string]any{"title": branch, "head": branch, "base": "main"}, &pr); err != nil {
					return err
				}
				if i%10 != 0 {
					continue
				}
				if err := alice.Label(gctx, repo, pr.Number, "lgtm", "approved"); err != nil {
					return err
				}
				if err := bot.SetStatus(gctx, repo, sha, "unit", "success", "Job succeeded."); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.Logf("sandbox with %d pull requests built in %s", benchRepos*benchPerRepo, time.Since(start).Round(time.Second))
	return &benchForge{url: srv.URL, calls: &callCounter{counts: map[string]int{}}}
}

// syncer is a new controller's Syncer with its own (empty) ETag cache.
func (bf *benchForge) syncer(b *testing.B) *Syncer {
	gh, err := ghclient.New(ghclient.Options{BaseURL: bf.url + "/", Token: "bot-token",
		Transport: &countingTransport{next: http.DefaultTransport, counter: bf.calls}})
	if err != nil {
		b.Fatal(err)
	}
	return &Syncer{GitHub: gh.ForOrg}
}

// benchSet is one query over the org and one required job per repository.
func benchSet() *configset.Set {
	presubmits := map[string][]jobs.Presubmit{}
	for r := range benchRepos {
		presubmits[fmt.Sprintf("bench/r%02d", r)] = []jobs.Presubmit{{JobBase: jobs.JobBase{Name: "unit", Agent: "jenkins"},
			AlwaysRun: true, Reporter: jobs.Reporter{Context: "unit"}}}
	}
	return &configset.Set{
		Config: &prowconfig.Config{ProwJobNamespace: "bench", Tide: prowconfig.Tide{
			Queries: []prowconfig.TideQuery{{Orgs: []string{"bench"}, Labels: []string{"lgtm", "approved"}}}}},
		Jobs: &jobs.Config{Presubmits: presubmits},
	}
}

// benchPools keeps the pools' statuses and runs in memory, as the API
// server would: runs the controller starts stay pending.
type benchPools struct {
	mu     sync.Mutex
	status map[poolKey]*v1alpha1.MergePoolStatus
	runs   map[poolKey][]Run
}

// sync is one sync: the search, then every pool.
func (p *benchPools) sync(ctx context.Context, b *testing.B, s *Syncer, cfg *Config) {
	if _, err := s.Discover(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.MaxGoroutines)
	for _, k := range s.Pools() {
		g.Go(func() error {
			p.mu.Lock()
			st := p.status[k]
			if st == nil {
				st = &v1alpha1.MergePoolStatus{}
				p.status[k] = st
			}
			runs := append([]Run(nil), p.runs[k]...)
			p.mu.Unlock()
			res, err := s.SyncPool(gctx, cfg, k, st, runs, p)
			if err != nil {
				return err
			}
			p.mu.Lock()
			applyResult(st, 1, res, nil, s.metaNow())
			p.mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

func (p *benchPools) StartRuns(_ context.Context, _ *Config, k poolKey, s Start) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, j := range s.Jobs {
		typ := v1alpha1.BatchJob
		if len(s.PRs) == 1 {
			typ = v1alpha1.PresubmitJob
		}
		p.runs[k] = append(p.runs[k], Run{Name: fmt.Sprint(len(p.runs[k])), Job: j.Name, Context: j.Context, Type: typ,
			State: v1alpha1.PendingState, BaseSHA: s.BaseSHA, Pulls: pullsOf(s.PRs), ByMerge: true, Kind: s.Kind})
	}
	return nil
}

func (p *benchPools) AbortRun(context.Context, string) error { return nil }

func (p *benchPools) RecordMerge(context.Context, poolKey, *v1alpha1.PoolMerge) error { return nil }
