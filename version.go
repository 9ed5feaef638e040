package main

// version is gopeer's version. Release builds stamp it with
// -ldflags "-X main.version=v1.2.3" (scripts/build-all.sh); a plain
// go build leaves "dev".
var version = "dev"
