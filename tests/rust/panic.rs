//! An uncaught panic: the message goes to stderr, then the module traps (`unreachable`,
//! wasm32-wasi's panic=abort), which `wasmtime run` reports with status 134.

fn checked_div(values: &[i64], by: i64) -> Vec<i64> {
    values
        .iter()
        .map(|v| {
            if by == 0 {
                panic!("deliberate panic: dividing {v} by zero");
            }
            v / by
        })
        .collect()
}

fn main() {
    let halves = checked_div(&[10, 20, 30], 2);
    assert_eq!(halves, [5, 10, 15]);
    println!("before the panic: {halves:?}");
    let by = std::env::args().count() as i64 - 1;
    let never = checked_div(&[7], by);
    println!("after the panic (must not happen): {never:?}");
}
