//! HashMap and HashSet with their default RandomState (seeded through random_get), checked
//! against BTreeMap; two RandomStates hash the same key differently. One hash is printed to
//! stderr so that the test can see it change from run to run.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

const TEXT: &str = "the quick brown fox jumps over the lazy dog while the dog sleeps \
    and the fox runs über die brücke to the river where the quick fish swim and the lazy \
    bird sings to the fox of the river";

fn hash_with(state: &RandomState, key: &str) -> u64 {
    let mut hasher = state.build_hasher();
    key.hash(&mut hasher);
    hasher.finish()
}

fn main() {
    let a = RandomState::new();
    let b = RandomState::new();
    let ha = hash_with(&a, "clew");
    assert_eq!(ha, hash_with(&a, "clew"), "one state hashes alike");
    assert_ne!(ha, hash_with(&b, "clew"), "two states hash alike");
    eprintln!("hash of clew: {ha:016x}");
    println!("random states: differ");

    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut sorted: BTreeMap<&str, usize> = BTreeMap::new();
    for word in TEXT.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
        *sorted.entry(word).or_default() += 1;
    }
    let mut from_hash: Vec<(&str, usize)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
    from_hash.sort();
    let from_btree: Vec<(&str, usize)> = sorted.into_iter().collect();
    assert_eq!(from_hash, from_btree);
    let mut top = from_hash.clone();
    top.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    println!("words: {} distinct of {}", counts.len(), TEXT.split_whitespace().count());
    for (word, n) in &top[..4] {
        println!("  {word}: {n}");
    }

    // Many integer keys: insert, look up, remove, retain, the entry API.
    let mut big: HashMap<u64, u64> = HashMap::new();
    for i in 0..50_000u64 {
        assert!(big.insert(i * 7919 % 100_003, i).is_none());
    }
    assert_eq!(big.len(), 50_000);
    for i in (0..50_000u64).step_by(97) {
        assert_eq!(big.get(&(i * 7919 % 100_003)), Some(&i));
    }
    big.retain(|_, v| *v % 3 != 0);
    assert_eq!(big.len(), 33_333);
    match big.entry(7919) {
        Entry::Occupied(e) => assert_eq!(*e.get(), 1),
        Entry::Vacant(_) => panic!("7919 is missing"),
    }
    assert_eq!(big.remove(&7919), Some(1));
    assert!(!big.contains_key(&7919));
    let total: u64 = big.values().sum();
    println!("big map: {} entries, values sum {total}", big.len());

    let evens: HashSet<u64> = (0..1000).filter(|x| x % 2 == 0).collect();
    let threes: HashSet<u64> = (0..1000).filter(|x| x % 3 == 0).collect();
    let both: HashSet<u64> = evens.intersection(&threes).copied().collect();
    assert_eq!(both, (0..1000).filter(|x| x % 6 == 0).collect());
    println!(
        "sets: {} evens, {} threes, {} both, {} either",
        evens.len(),
        threes.len(),
        both.len(),
        evens.union(&threes).count()
    );
}
