// Command loadgen connects N OpAMP agents built on opamp-go's client to an
// OpAMP server, heartbeats, answers each remote config push with APPLIED and
// its effective config, and prints one JSON line of counts when every agent
// has applied a config or when its deadline passes. Loopback only by intent:
// it is a test tool.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
)

type quietLogger struct{ errors *atomic.Int64 }

func (quietLogger) Debugf(context.Context, string, ...any) {}
func (l quietLogger) Errorf(_ context.Context, f string, v ...any) {
	if l.errors.Add(1) <= 20 {
		fmt.Fprintf(os.Stderr, "loadgen: "+f+"\n", v...)
	}
}

func kv(k, v string) *protobufs.KeyValue {
	return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
}

type agent struct {
	c       client.OpAMPClient
	mu      sync.Mutex
	body    []byte
	applied bool
}

type summary struct {
	Agents        int   `json:"agents"`
	Connected     int64 `json:"connected"`
	Connects      int64 `json:"connects"`
	RemoteConfigs int64 `json:"remote_configs"`
	Applied       int64 `json:"applied"`
	Errors        int64 `json:"errors"`
	ElapsedMs     int64 `json:"elapsed_ms"`
}

func main() {
	url := flag.String("url", "ws://127.0.0.1:4320/v1/opamp", "OpAMP server URL (ws:// or http://)")
	n := flag.Int("n", 100, "number of agents")
	token := flag.String("token", "", "bootstrap token sent as Authorization: Bearer (every agent)")
	tokensFile := flag.String("tokens", "", "file of bootstrap tokens, one a line: agent i presents line i (a token enrols one agent)")
	deadline := flag.Duration("deadline", 5*time.Minute, "give up after this long")
	hold := flag.Duration("hold", 0, "keep the agents connected this long after all applied")
	heartbeat := flag.Duration("heartbeat", 5*time.Second, "heartbeat interval")
	stagger := flag.Duration("stagger", 2*time.Millisecond, "delay between agent starts")
	namePrefix := flag.String("name", "loadgen", "host.name prefix")
	uidsOut := flag.String("uids", "", "write the agents' instance uids (hex, one a line) to this file")
	connectedOut := flag.Bool("print-connected", true, "print a line once every agent has connected")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *deadline)
	defer cancel()

	var tokens []string
	if *tokensFile != "" {
		b, err := os.ReadFile(*tokensFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		tokens = strings.Fields(string(b))
		if len(tokens) < *n {
			fmt.Fprintf(os.Stderr, "loadgen: %d tokens for %d agents\n", len(tokens), *n)
			os.Exit(1)
		}
	}

	start := time.Now()
	var connected, connects, configs, applied, errs atomic.Int64
	allApplied := make(chan struct{})
	allConnected := make(chan struct{})
	var closeApplied, closeConnected sync.Once
	log := quietLogger{errors: &errs}
	agents := make([]*agent, 0, *n)
	var uids []string

	for i := 0; i < *n; i++ {
		a := &agent{body: []byte("receivers: {}\n")}
		id := uuid.Must(uuid.NewV7())
		uids = append(uids, fmt.Sprintf("%x", id[:]))
		if strings.HasPrefix(*url, "http") {
			a.c = client.NewHTTP(log)
		} else {
			a.c = client.NewWebSocket(log)
		}
		_ = a.c.SetAgentDescription(&protobufs.AgentDescription{
			IdentifyingAttributes: []*protobufs.KeyValue{
				kv("service.name", "ampora-loadgen"), kv("service.instance.id", id.String()), kv("service.version", "0.0.1")},
			NonIdentifyingAttributes: []*protobufs.KeyValue{kv("host.name", fmt.Sprintf("%s-%d", *namePrefix, i)), kv("os.type", "linux")},
		})
		_ = a.c.SetHealth(&protobufs.ComponentHealth{Healthy: true, StartTimeUnixNano: uint64(time.Now().UnixNano()), Status: "StatusOK"})
		hb := *heartbeat
		header := http.Header{}
		if tokens != nil {
			header.Set("Authorization", "Bearer "+tokens[i])
		} else if *token != "" {
			header.Set("Authorization", "Bearer "+*token)
		}
		var wasConnected atomic.Bool
		err := a.c.Start(ctx, types.StartSettings{
			OpAMPServerURL:    *url,
			Header:            header,
			InstanceUid:       types.InstanceUid(id),
			HeartbeatInterval: &hb,
			Capabilities: protobufs.AgentCapabilities_AgentCapabilities_ReportsStatus |
				protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig |
				protobufs.AgentCapabilities_AgentCapabilities_ReportsRemoteConfig |
				protobufs.AgentCapabilities_AgentCapabilities_ReportsEffectiveConfig |
				protobufs.AgentCapabilities_AgentCapabilities_ReportsHealth |
				protobufs.AgentCapabilities_AgentCapabilities_ReportsHeartbeat,
			Callbacks: types.Callbacks{
				OnConnect: func(context.Context) {
					connects.Add(1)
					if wasConnected.CompareAndSwap(false, true) && connected.Add(1) == int64(*n) {
						closeConnected.Do(func() { close(allConnected) })
					}
				},
				OnMessage: func(ctx context.Context, m *types.MessageData) {
					if m.RemoteConfig == nil {
						return
					}
					configs.Add(1)
					body := []byte{}
					if m.RemoteConfig.Config != nil {
						for _, f := range m.RemoteConfig.Config.ConfigMap {
							body = f.Body
						}
					}
					a.mu.Lock()
					a.body = body
					first := !a.applied
					a.applied = true
					a.mu.Unlock()
					_ = a.c.UpdateEffectiveConfig(ctx)
					_ = a.c.SetRemoteConfigStatus(&protobufs.RemoteConfigStatus{
						LastRemoteConfigHash: m.RemoteConfig.ConfigHash,
						Status:               protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED,
					})
					if first && applied.Add(1) == int64(*n) {
						closeApplied.Do(func() { close(allApplied) })
					}
				},
				GetEffectiveConfig: func(context.Context) (*protobufs.EffectiveConfig, error) {
					a.mu.Lock()
					defer a.mu.Unlock()
					return &protobufs.EffectiveConfig{ConfigMap: &protobufs.AgentConfigMap{
						ConfigMap: map[string]*protobufs.AgentConfigFile{"": {Body: a.body, ContentType: "text/yaml"}}}}, nil
				},
			},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: start:", err)
			os.Exit(1)
		}
		agents = append(agents, a)
		if *stagger > 0 {
			time.Sleep(*stagger)
		}
	}
	if *uidsOut != "" {
		f, err := os.Create(*uidsOut)
		if err == nil {
			for _, u := range uids {
				fmt.Fprintln(f, u)
			}
			f.Close()
		}
	}

	report := func(event string) {
		s := summary{Agents: *n, Connected: connected.Load(), Connects: connects.Load(), RemoteConfigs: configs.Load(),
			Applied: applied.Load(), Errors: errs.Load(), ElapsedMs: time.Since(start).Milliseconds()}
		b, _ := json.Marshal(map[string]any{"event": event, "summary": s})
		fmt.Println(string(b))
	}

	if *connectedOut {
		select {
		case <-allConnected:
			report("connected")
		case <-ctx.Done():
		}
	}
	exit := 0
	select {
	case <-allApplied:
		report("applied")
		if *hold > 0 {
			select {
			case <-time.After(*hold):
			case <-ctx.Done():
			}
		}
	case <-ctx.Done():
		report("deadline")
		exit = 2
	}
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopCancel()
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Add(1)
		go func(a *agent) { defer wg.Done(); _ = a.c.Stop(stopCtx) }(a)
	}
	wg.Wait()
	report("stopped")
	os.Exit(exit)
}
