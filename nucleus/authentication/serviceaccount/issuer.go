package serviceaccount

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer signs tokens with one key in the name of one issuer.
type Issuer struct {
	issuer string
	keyID  string
	alg    jose.SignatureAlgorithm
	signer jose.Signer
	public crypto.PublicKey
}

// NewIssuer returns an Issuer signing as issuer with key (RSA: RS256,
// ECDSA P-256: ES256).
func NewIssuer(issuer string, key crypto.Signer) (*Issuer, error) {
	alg, err := algorithm(key.Public())
	if err != nil {
		return nil, err
	}
	kid, err := KeyID(key.Public())
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("creating the token signer: %w", err)
	}
	return &Issuer{issuer: issuer, keyID: kid, alg: alg, signer: signer, public: key.Public()}, nil
}

// Name is the issuer ("iss") of the tokens.
func (i *Issuer) Name() string { return i.issuer }

// PublicKey is the key tokens are verified with.
func (i *Issuer) PublicKey() crypto.PublicKey { return i.public }

// Sign serializes and signs the claims.
func (i *Issuer) Sign(public *jwt.Claims, private *PrivateClaims) (string, error) {
	token, err := jwt.Signed(i.signer).Claims(public).Claims(private).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return token, nil
}

// JWK is the public key in JSON Web Key form, for the JWKS.
func (i *Issuer) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: i.public, KeyID: i.keyID, Algorithm: string(i.alg), Use: "sig"}
}

func algorithm(pub crypto.PublicKey) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return jose.RS256, nil
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return jose.ES256, nil
		case 384:
			return jose.ES384, nil
		case 521:
			return jose.ES512, nil
		}
	}
	return "", fmt.Errorf("unsupported service account signing key type %T", pub)
}
