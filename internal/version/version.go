// Package version holds the project's version, the one string every surface
// reports (the binary's --version, the User-Agent of API requests).
package version

// Version is the project version: "dev" unless the build sets it, as release
// builds do with
//
//	-ldflags "-X github.com/acme-dns-hook/acme-dns-hook/internal/version.Version=vX.Y.Z"
var Version = "dev"
