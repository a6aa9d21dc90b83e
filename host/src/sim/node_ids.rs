//! Node ids of the simulated network: valid compressed public keys, since lightningd's clients
//! parse node ids as keys and made-up hex would not do.

/// Our own simulated node id, derived once (deriving a key is slow, and gossip and `getinfo`
/// ask for it all the time).
pub(super) fn own_node_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| node_id(0))
}

/// The key of simulated node `n` (0 is our own node).
pub(super) fn node_id(n: u64) -> String {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&(n + 1).to_be_bytes());
    secret[31] = 1;
    let key =
        secp256k1::SecretKey::from_slice(&secret).expect("a small non-zero scalar is a valid key");
    secp256k1::PublicKey::from_secret_key(&secp256k1::Secp256k1::signing_only(), &key).to_string()
}
