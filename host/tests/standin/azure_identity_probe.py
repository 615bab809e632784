"""Gets a token with azure-identity's ManagedIdentityCredential and prints it.

Run by host/tests/adapters.rs against the local stand-in: the environment points the
library at 127.0.0.1 (AZURE_POD_IDENTITY_AUTHORITY_HOST for IMDS, IDENTITY_ENDPOINT and
IDENTITY_HEADER for App Service).
"""
import argparse
import sys

from azure.identity import ManagedIdentityCredential


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--client-id")
    p.add_argument("--scope", default="https://management.azure.com/.default")
    a = p.parse_args()
    kwargs = {"client_id": a.client_id} if a.client_id else {}
    cred = ManagedIdentityCredential(**kwargs)
    token = cred.get_token(a.scope)
    if not token.token or token.expires_on <= 0:
        print("no token", file=sys.stderr)
        return 1
    print(token.token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
