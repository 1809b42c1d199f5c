/// Every failure a user can cause, with the file (when there is one) and what disagrees.
///
/// Executables print `description` once, as one line on standard error, and exit non-zero.
public enum MLPError: Error, CustomStringConvertible, Equatable {
    /// A file could not be opened, read or written.
    case io(path: String, problem: String)
    /// A file was read but its contents are not what they should be.
    case format(path: String, problem: String)
    /// A model architecture, configuration or its weights do not fit together.
    case model(String)
    /// An option or argument is out of range or inconsistent with the data.
    case usage(String)
    /// A setting, by its Keras name ("validation_split", "layers", "monitor"), is wrong; an
    /// executable reports it under its own option's name.
    case setting(String, problem: String)
    /// A download failed or delivered the wrong bytes.
    case download(url: String, problem: String)
    /// A training step's loss was not finite: where it happened and what to try.
    case diverged(String)

    public var description: String {
        switch self {
        case .io(let path, let problem), .format(let path, let problem):
            return "\(path): \(problem)"
        case .model(let message), .usage(let message), .diverged(let message):
            return message
        case .setting(let name, let problem):
            return "\(name): \(problem)"
        case .download(let url, let problem):
            return "\(url): \(problem)"
        }
    }
}

extension MLPError {
    /// Runs `body`, a problem of the model's (`model`) becoming one of the file at `path`.
    public static func naming<T>(file path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch MLPError.model(let problem) {
            throw MLPError.format(path: path, problem: problem)
        }
    }
}
