//go:build tools

// Package tools records the tool versions pinned in go.mod.
package tools

import (
	_ "github.com/go-acme/lego/v4/cmd/lego"
)
