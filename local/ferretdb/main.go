// Command ferretdb runs FerretDB v1 with its SQLite backend for the marketplace local stack.
//
// It embeds github.com/FerretDB/FerretDB/ferretdb instead of building FerretDB's own main package, because a
// binary whose main module is FerretDB itself refuses to start without a generated build/version/version.txt.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory holding the SQLite databases (created if missing)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listenAddr, *dataDir, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %s\n", err)
		os.Exit(1)
	}
}

func run(listenAddr, dataDir, logLevel string) error {
	if dataDir == "" {
		return fmt.Errorf("--data-dir is required")
	}

	absDir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}

	if err = os.MkdirAll(absDir, 0o700); err != nil {
		return err
	}

	var level slog.Level
	if err = level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// SQLite URIs name a directory and must end with a slash.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + absDir + "/",
	})
	if err != nil {
		return err
	}

	logger.Info("FerretDB listening", "addr", listenAddr, "data_dir", absDir)

	return f.Run(ctx)
}
