/// "1 epoch", "2 epochs": a count with its noun in the right number (nouns that add an s).
public func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
