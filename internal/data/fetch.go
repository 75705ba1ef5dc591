package data

// Fetch downloads url into part, resuming what part already holds, with a
// bar on DownloadProgress; where prefixes errors. The caller checks the
// result and renames it into place (model weights use it too).
func Fetch(where, url, part string) error { return download(where, url, part) }
