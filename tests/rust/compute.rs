//! Computation for the native tier: sorting 100k pseudo-random u64 (xorshift64*), stable
//! sorts, binary search, 128-bit and floating-point arithmetic, string formatting; prints
//! checksums the test compares.

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn checksum(values: &[u64]) -> u64 {
    values
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |acc, v| (acc ^ v).wrapping_mul(0x100_0000_01b3))
}

fn main() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut values: Vec<u64> = (0..100_000).map(|_| xorshift(&mut state)).collect();
    let unsorted = checksum(&values);
    values.sort_unstable();
    assert!(values.windows(2).all(|w| w[0] <= w[1]));
    println!("sorted 100000: {unsorted:016x} -> {:016x}", checksum(&values));
    println!(
        "min {:016x} median {:016x} max {:016x}",
        values[0],
        values[values.len() / 2],
        values[values.len() - 1]
    );
    for probe in [0usize, 1, 4_999, 50_000, 99_999] {
        assert_eq!(values[values.binary_search(&values[probe]).unwrap()], values[probe]);
    }

    // A stable sort keeps equal keys in their original order.
    let mut pairs: Vec<(u8, u32)> = (0..50_000u32)
        .map(|i| ((xorshift(&mut state) % 16) as u8, i))
        .collect();
    pairs.sort_by_key(|p| p.0);
    assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)));
    let firsts: Vec<u32> = (0..16u8)
        .map(|k| pairs.iter().find(|p| p.0 == k).unwrap().1)
        .collect();
    println!("stable sort: first of each key {firsts:?}");

    // 128-bit products and a modular exponent.
    let mut acc: u128 = 1;
    for v in &values[..1000] {
        acc = acc.wrapping_mul(*v as u128 | 1) % 0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ff61;
    }
    let mut power: u128 = 1;
    let (mut base, mut exp, modulus) = (3u128, 1_000_000_007u128, 1_000_000_000_000_000_003u128);
    while exp > 0 {
        if exp & 1 == 1 {
            power = power * base % modulus;
        }
        base = base * base % modulus;
        exp >>= 1;
    }
    println!("u128: product {acc:032x}, 3^(1e9+7) mod (1e18+3) = {power}");
    assert_eq!(i64::MAX.checked_add(1), None);
    assert_eq!(i64::MAX.wrapping_add(1), i64::MIN);
    assert_eq!((-7i64).rem_euclid(3), 2);

    // Floating point (IEEE in every engine; sqrt is an instruction, sin is libm's).
    let roots: f64 = (1..=100_000).map(|i| (i as f64).sqrt()).sum();
    let waves: f64 = (0..10_000).map(|i| (i as f64 * 0.001).sin()).sum();
    println!("sum of sqrt(1..=100000) = {roots:.6}, sum of sin = {waves:.9}");
    println!("{} {} {:e} {}", 0.1 + 0.2, 1.0f64 / 3.0, 6.02214076e23f64, f64::MAX);

    // Formatting and parsing.
    let text: Vec<String> = values.iter().step_by(10).map(|v| format!("{v:x}")).collect();
    let joined = text.join(",");
    let parsed: Vec<u64> = joined
        .split(',')
        .map(|s| u64::from_str_radix(s, 16).unwrap())
        .collect();
    assert_eq!(parsed, values.iter().step_by(10).copied().collect::<Vec<_>>());
    println!("formatted {} numbers into {} bytes", parsed.len(), joined.len());
}
