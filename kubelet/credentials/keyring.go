package credentials

import (
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distribution/reference"
)

// defaultRegistryHost is the key Docker Hub's credentials go by
// ("https://index.docker.io/v1/" in a config.json).
const defaultRegistryHost = "index.docker.io"

// keyring finds the credentials of an image among registry locations, as
// upstream's BasicDockerKeyring.
type keyring struct {
	// index holds the locations, most specific first.
	index []string
	creds map[string][]DockerConfigEntry
}

// add adds the entries of a config. A location's scheme and a /v1/ or
// /v2/ path are dropped, as docker does.
func (k *keyring) add(cfg DockerConfig) {
	if k.creds == nil {
		k.creds = map[string][]DockerConfigEntry{}
	}
	// Sorted, so that the credentials of one location from one config
	// come in a stable order.
	locations := make([]string, 0, len(cfg))
	for loc := range cfg {
		locations = append(locations, loc)
	}
	sort.Strings(locations)
	for _, loc := range locations {
		key, ok := locationKey(loc)
		if !ok {
			continue
		}
		if _, seen := k.creds[key]; !seen {
			k.index = append(k.index, key)
		}
		k.creds[key] = append(k.creds[key], cfg[loc])
	}
	// Reverse order puts longer paths of a host first: for
	// quay.io/team/app, quay.io/team before quay.io.
	sort.Sort(sort.Reverse(sort.StringSlice(k.index)))
}

// locationKey is how a location is matched: host[:port][/path].
func locationKey(loc string) (string, bool) {
	value := loc
	if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
		value = "https://" + value
	}
	parsed, err := url.Parse(value)
	if err != nil {
		return "", false
	}
	path := parsed.Path
	if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/") {
		path = path[3:]
	}
	if path != "" && path != "/" {
		return parsed.Host + path, true
	}
	return parsed.Host, true
}

// lookup returns the credentials of every location matching repo (a
// normalized repository such as docker.io/library/busybox), most specific
// location first; when none matches, a Docker Hub image gets the
// credentials for index.docker.io.
func (k *keyring) lookup(repo string) []DockerConfigEntry {
	var found []DockerConfigEntry
	for _, key := range k.index {
		if urlsMatch(key, repo) {
			found = append(found, k.creds[key]...)
		}
	}
	if len(found) > 0 {
		return found
	}
	if isDefaultRegistry(repo) {
		return k.creds[defaultRegistryHost]
	}
	return nil
}

// urlsMatch tells whether the location glob matches target: the same
// port, as many host labels each matching the glob's (wildcards such as
// *.example.com), and the glob's path a prefix of the target's.
func urlsMatch(glob, target string) bool {
	g, err := url.Parse("https://" + glob)
	if err != nil {
		return false
	}
	t, err := url.Parse("https://" + target)
	if err != nil {
		return false
	}
	gParts, gPort := splitHost(g.Host)
	tParts, tPort := splitHost(t.Host)
	if gPort != tPort || len(gParts) != len(tParts) || !strings.HasPrefix(t.Path, g.Path) {
		return false
	}
	for i := range gParts {
		if ok, err := filepath.Match(gParts[i], tParts[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

func splitHost(hostport string) ([]string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return strings.Split(host, "."), port
}

// isDefaultRegistry tells whether a repository is pulled from Docker Hub.
func isDefaultRegistry(repo string) bool {
	first, _, hasSlash := strings.Cut(repo, "/")
	if first == "" {
		return false
	}
	if !hasSlash || first == "docker.io" || first == defaultRegistryHost {
		return true
	}
	// A registry host has a dot or a port, or is localhost.
	return !strings.ContainsAny(first, ".:") && first != "localhost"
}

// repository is the repository an image is pulled from, normalized as the
// runtime does (busybox:1.36 → docker.io/library/busybox).
func repository(image string) (string, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", err
	}
	return named.Name(), nil
}

// Lookup returns the credentials a set of configs (a pod's pull secrets)
// gives image: those of every matching location, most specific first, the
// entries of one location in the order of configs.
func Lookup(image string, configs ...DockerConfig) ([]DockerConfigEntry, error) {
	repo, err := repository(image)
	if err != nil {
		return nil, err
	}
	k := &keyring{}
	for _, cfg := range configs {
		k.add(cfg)
	}
	return k.lookup(repo), nil
}
