// Command pkgagent is one OpAMP agent built on opamp-go's client library and its package syncer:
// it accepts packages, downloads what the server offers (PackagesAvailable), checks each file's
// sha256 and its ed25519 signature against the publisher key it is given, keeps the files in a
// directory and reports PackageStatuses (Installed, or InstallFailed with the error). It prints one
// JSON line per package state it stores. A test tool for Ampora's interop suite.
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
)

type logger struct{}

func (logger) Debugf(context.Context, string, ...any) {}
func (logger) Errorf(_ context.Context, f string, v ...any) {
	fmt.Fprintf(os.Stderr, "pkgagent: "+f+"\n", v...)
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// store is the agent's local package state: in memory, with the files written to a directory.
type store struct {
	mu        sync.Mutex
	dir       string
	publisher ed25519.PublicKey
	allHash   []byte
	states    map[string]types.PackageState
	content   map[string][]byte
	statuses  *protobufs.PackageStatuses
}

func (s *store) AllPackagesHash() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allHash, nil
}

func (s *store) SetAllPackagesHash(hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allHash = hash
	return nil
}

func (s *store) Packages() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.states))
	for n := range s.states {
		names = append(names, n)
	}
	return names, nil
}

func (s *store) PackageState(name string) (types.PackageState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states[name], nil
}

func (s *store) SetPackageState(name string, state types.PackageState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// opamp-go v0.23.0's syncer passes the state it read before CreatePackage (Exists false) with the
	// new hash and version; the package exists once it is installed, or the next offer's sync would
	// try to create it again ("already exists") instead of upgrading it
	state.Exists = true
	s.states[name] = state
	emit(map[string]any{"event": "package_state", "name": name, "version": state.Version, "hash": hex.EncodeToString(state.Hash)})
	return nil
}

func (s *store) CreatePackage(name string, typ protobufs.PackageType) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.states[name]; ok {
		return fmt.Errorf("package %s already exists", name)
	}
	s.states[name] = types.PackageState{Exists: true, Type: typ}
	return nil
}

func (s *store) FileContentHash(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.content[name]
	if !ok {
		return nil, nil
	}
	h := sha256.Sum256(c)
	return h[:], nil
}

// UpdateContent is where the agent refuses what it must not install: a file whose sha256 is not the
// offered content hash, or whose signature does not verify with the publisher's key.
func (s *store) UpdateContent(ctx context.Context, name string, data io.Reader, contentHash, signature []byte) error {
	body, err := io.ReadAll(data)
	if err != nil {
		return err
	}
	h := sha256.Sum256(body)
	if !bytes.Equal(h[:], contentHash) {
		return errors.New("content hash mismatch")
	}
	if len(signature) != ed25519.SignatureSize || !ed25519.Verify(s.publisher, body, signature) {
		emit(map[string]any{"event": "refused", "name": name, "reason": "signature"})
		return errors.New("signature verification failed")
	}
	if err := os.WriteFile(filepath.Join(s.dir, hex.EncodeToString(h[:])), body, 0o600); err != nil {
		return err
	}
	s.mu.Lock()
	s.content[name] = body
	s.mu.Unlock()
	emit(map[string]any{"event": "installed", "name": name, "bytes": len(body)})
	return nil
}

func (s *store) DeletePackage(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.states, name)
	delete(s.content, name)
	return nil
}

func (s *store) LastReportedStatuses() (*protobufs.PackageStatuses, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses, nil
}

func (s *store) SetLastReportedStatuses(statuses *protobufs.PackageStatuses) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = statuses
	return nil
}

func main() {
	url := flag.String("url", "ws://127.0.0.1:4320/v1/opamp", "OpAMP server URL (ws:// or http://)")
	token := flag.String("token", "", "bootstrap token (Authorization: Bearer)")
	publisher := flag.String("publisher", "", "the publisher's ed25519 public key, 32 bytes base64")
	dir := flag.String("dir", os.TempDir(), "where installed files are kept")
	name := flag.String("name", "pkgagent", "host.name")
	heartbeat := flag.Duration("heartbeat", time.Second, "heartbeat interval")
	deadline := flag.Duration("deadline", 5*time.Minute, "exit after this long")
	flag.Parse()

	key, err := base64.StdEncoding.DecodeString(*publisher)
	if err != nil || len(key) != ed25519.PublicKeySize {
		fmt.Fprintln(os.Stderr, "pkgagent: -publisher must be a 32-byte ed25519 public key in base64")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *deadline)
	defer cancel()

	st := &store{dir: *dir, publisher: ed25519.PublicKey(key), states: map[string]types.PackageState{}, content: map[string][]byte{}, statuses: &protobufs.PackageStatuses{}}
	var c client.OpAMPClient
	if len(*url) > 4 && (*url)[:4] == "http" {
		c = client.NewHTTP(logger{})
	} else {
		c = client.NewWebSocket(logger{})
	}
	kv := func(k, v string) *protobufs.KeyValue {
		return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
	}
	if err := c.SetAgentDescription(&protobufs.AgentDescription{
		IdentifyingAttributes:    []*protobufs.KeyValue{kv("service.name", "ampora-pkgagent"), kv("service.version", "0.0.1")},
		NonIdentifyingAttributes: []*protobufs.KeyValue{kv("host.name", *name)},
	}); err != nil {
		fmt.Fprintln(os.Stderr, "pkgagent:", err)
		os.Exit(1)
	}
	caps := protobufs.AgentCapabilities_AgentCapabilities_ReportsStatus |
		protobufs.AgentCapabilities_AgentCapabilities_AcceptsPackages |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsPackageStatuses |
		protobufs.AgentCapabilities_AgentCapabilities_ReportsHeartbeat
	uid := uuid.Must(uuid.NewV7())
	settings := types.StartSettings{
		OpAMPServerURL:        *url,
		Header:                http.Header{"Authorization": []string{"Bearer " + *token}},
		InstanceUid:           types.InstanceUid(uid),
		HeartbeatInterval:     heartbeat,
		PackagesStateProvider: st,
		// SetCapabilities before Start refuses AcceptsPackages (the provider is only known at Start), so
		// the capabilities go in the start settings (deprecated there, still honoured by v0.23.0)
		Capabilities: caps,
		Callbacks: types.Callbacks{
			OnConnect: func(context.Context) { emit(map[string]any{"event": "connected", "uid": uid.String()}) },
			OnMessage: func(ctx context.Context, msg *types.MessageData) {
				if msg.PackageSyncer == nil {
					return
				}
				emit(map[string]any{"event": "offer", "packages": len(msg.PackagesAvailable.Packages)})
				if err := msg.PackageSyncer.Sync(ctx); err != nil {
					fmt.Fprintln(os.Stderr, "pkgagent: sync:", err)
				}
			},
		},
	}
	if err := c.Start(ctx, settings); err != nil {
		fmt.Fprintln(os.Stderr, "pkgagent: start:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	_ = c.Stop(context.Background())
}
