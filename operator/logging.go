package main

import (
	"fmt"
	"io"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// LogOptions configures the process's logger: JSON for machines by default,
// console for people.
type LogOptions struct {
	// Format is json or console.
	Format string
	// Level is debug, info or error, or a positive number for more verbose
	// debug levels.
	Level string
}

// AddFlags registers the logging flags.
func (o *LogOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Format, "log-format", "json", "log format: json or console")
	fs.StringVar(&o.Level, "log-level", "info", "log level: debug, info, error, or a number for verbosity")
}

// Validate reports flag values that cannot work.
func (o *LogOptions) Validate() error {
	switch o.Format {
	case "json", "console":
	default:
		return fmt.Errorf("--log-format must be json or console, not %q", o.Format)
	}
	if _, err := o.level(); err != nil {
		return err
	}
	return nil
}

func (o *LogOptions) level() (zapcore.Level, error) {
	switch o.Level {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info", "":
		return zapcore.InfoLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	var n int
	if _, err := fmt.Sscanf(o.Level, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != o.Level {
		return 0, fmt.Errorf("--log-level must be debug, info, error or a non-negative number, not %q", o.Level)
	}
	return zapcore.Level(-n), nil
}

// Logger builds the logger, writing to standard error. Call Validate first.
func (o *LogOptions) Logger() logr.Logger { return o.LoggerTo(os.Stderr) }

// LoggerTo builds the logger, writing to w. Call Validate first.
func (o *LogOptions) LoggerTo(w io.Writer) logr.Logger {
	lvl, _ := o.level()
	return zap.New(
		zap.WriteTo(w),
		zap.UseDevMode(false),
		zap.Level(lvl),
		zap.StacktraceLevel(zapcore.PanicLevel),
		func(zo *zap.Options) {
			if o.Format == "console" {
				zo.Encoder = zapcore.NewConsoleEncoder(consoleEncoderConfig())
			} else {
				zo.Encoder = zapcore.NewJSONEncoder(jsonEncoderConfig())
			}
		},
	)
}

func jsonEncoderConfig() zapcore.EncoderConfig {
	c := zapcore.EncoderConfig{
		TimeKey:        "ts",
		LevelKey:       "level",
		NameKey:        "logger",
		CallerKey:      "caller",
		MessageKey:     "msg",
		StacktraceKey:  "stacktrace",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeLevel:    zapcore.LowercaseLevelEncoder,
		EncodeTime:     zapcore.RFC3339NanoTimeEncoder,
		EncodeDuration: zapcore.StringDurationEncoder,
		EncodeCaller:   zapcore.ShortCallerEncoder,
	}
	return c
}

func consoleEncoderConfig() zapcore.EncoderConfig {
	c := jsonEncoderConfig()
	c.EncodeLevel = zapcore.CapitalLevelEncoder
	c.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
	c.CallerKey = ""
	return c
}
