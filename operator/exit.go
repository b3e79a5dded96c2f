package main

import (
	"errors"
	"strconv"
)

// exitError ends the program with a given code after the command already
// wrote what the user needs, as `bowline check` does for an invalid
// configuration.
type exitError struct{ code int }

func (e exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

func asExit(err error, target *exitError) bool { return errors.As(err, target) }
