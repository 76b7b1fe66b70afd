package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// DockerConfig maps registry locations ("registry.example.com",
// "registry.example.com:5000/team", "*.example.com",
// "https://index.docker.io/v1/") to credentials: the content of a
// .dockercfg file, the "auths" of a config.json.
type DockerConfig map[string]DockerConfigEntry

// DockerConfigJSON is a config.json (a kubernetes.io/dockerconfigjson
// Secret's .dockerconfigjson).
type DockerConfigJSON struct {
	Auths DockerConfig `json:"auths"`
}

// DockerConfigEntry is the credential of one registry location. An "auth"
// field (base64 of "username:password") sets Username and Password.
type DockerConfigEntry struct {
	Username      string
	Password      string
	Email         string
	IdentityToken string
	RegistryToken string
}

type dockerConfigEntryJSON struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Email         string `json:"email,omitempty"`
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// UnmarshalJSON reads an entry, decoding its auth field.
func (e *DockerConfigEntry) UnmarshalJSON(data []byte) error {
	var raw dockerConfigEntryJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*e = DockerConfigEntry{Username: raw.Username, Password: raw.Password, Email: raw.Email, IdentityToken: raw.IdentityToken, RegistryToken: raw.RegistryToken}
	if raw.Auth == "" {
		return nil
	}
	user, password, err := decodeAuth(raw.Auth)
	if err != nil {
		return err
	}
	e.Username, e.Password = user, password
	return nil
}

// MarshalJSON writes an entry with its auth field, as docker does.
func (e DockerConfigEntry) MarshalJSON() ([]byte, error) {
	raw := dockerConfigEntryJSON{Username: e.Username, Password: e.Password, Email: e.Email, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Username != "" || e.Password != "" {
		raw.Auth = base64.StdEncoding.EncodeToString([]byte(e.Username + ":" + e.Password))
	}
	return json.Marshal(raw)
}

// decodeAuth decodes base64("username:password"), padded or not.
func decodeAuth(field string) (string, string, error) {
	enc := base64.RawStdEncoding
	if strings.HasSuffix(strings.TrimSpace(field), "=") {
		enc = base64.StdEncoding
	}
	decoded, err := enc.DecodeString(strings.TrimSpace(field))
	if err != nil {
		return "", "", err
	}
	user, password, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return "", "", fmt.Errorf("unable to parse auth field, must be formatted as base64(username:password)")
	}
	return user, password, nil
}

// ReadDockerConfigFile reads node-wide credentials from a config.json
// (with "auths") or a .dockercfg (without), such as the kubelet's
// /var/lib/kubelet/config.json.
func ReadDockerConfigFile(path string) (DockerConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseDockerConfig(data)
}

// parseDockerConfig reads either format.
func parseDockerConfig(data []byte) (DockerConfig, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, err
	}
	if _, ok := probe["auths"]; ok {
		var cfg DockerConfigJSON
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, err
		}
		return cfg.Auths, nil
	}
	var cfg DockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
