import Foundation
import Testing
@testable import MLPKit

/// What a recipe's run leaves behind: the history file after every epoch, the caller's
/// floating-point control as it was.
@Suite struct TrainingRecipeTests {
    /// The history file holds every finished epoch when the next begins, however short the
    /// epochs.
    @Test func historyAfterEveryEpoch() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("h.csv").path
        final class Reader: Callback {
            let path: String
            var rows: [Int] = []
            init(path: String) { self.path = path }
            func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
                rows.append(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline).count - 1)
            }
        }
        let reader = Reader(path: path)
        var recipe = TrainingRecipe()
        recipe.start = .fresh(.layers([HiddenLayerSpec(units: 8, activation: .relu)]))
        recipe.epochs = 4
        recipe.seed = 1
        recipe.callbackValues[HistoryFile.flag] = .string(path)
        let data = SyntheticCIFAR.make(trainCount: 64, testCount: 16)
        _ = try recipe.run(data: { data }, callbacks: [reader], log: { _ in })
        #expect(reader.rows == [1, 2, 3, 4])
    }

    /// Training leaves the caller's thread computing denormals as before (fit flushes them to
    /// zero while it runs, as TensorFlow does).
    @Test func fitRestoresTheFloatingPointControl() throws {
        let half = { (x: Float) in x / 2 }
        // The smallest normal float, from a value the compiler cannot know, so that halving it
        // happens at run time under the thread's control state.
        let tiny = Float(bitPattern: ProcessInfo.processInfo.processIdentifier > 0 ? 0x0080_0000 : 0)
        #expect(half(tiny) != 0)
        var recipe = TrainingRecipe()
        recipe.start = .fresh(.layers([HiddenLayerSpec(units: 8, activation: .relu)]))
        recipe.epochs = 1
        recipe.seed = 1
        _ = try recipe.run(data: { SyntheticCIFAR.make(trainCount: 64, testCount: 16) }, log: { _ in })
        #expect(half(tiny) != 0, "denormals are flushed to zero after training")
        #expect(withDenormalsFlushedToZero { half(tiny) } == 0)
        #expect(half(tiny) != 0)
    }
}
