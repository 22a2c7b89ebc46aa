"""The kiosk's side of OCOP stamps: stored trust lists, the verifier built from the store,
station issuance from pre-signed blocks and the local demo registry.

The stamp format itself (codec, keys, signer, verifier, trust list, verdicts) is the domain
package `ocop.stamps`, shared with the registry.

Modules:
    trust_store  stored trust lists, re-verified on load, rollback protection (Store)
    service      Store glue: verifier_from_store, station issuance, blocks, demo registry
    demo         the local demo registry's keys and signing
Format and security notes: docs/stamp-format.md.
"""
