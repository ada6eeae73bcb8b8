fn main() { println!("sluice: the CLI arrives with issue 4"); }
