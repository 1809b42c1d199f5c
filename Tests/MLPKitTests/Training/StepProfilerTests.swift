import Foundation
import Testing
@testable import MLPKit

/// `--profile-steps`: every step timed, its parts summing to the step, and the traffic of the
/// optimizer's update and the batch's gathering counted as a hand calculation counts them.
@Suite struct StepProfilerTests {
    @Test func partsSumToTheStep() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("steps.json").path
        var recipe = TrainingRecipe()
        recipe.start = .fresh(.layers([HiddenLayerSpec(units: 16, activation: .relu)]))
        (recipe.epochs, recipe.batchSize, recipe.seed, recipe.optimizer) = (3, 16, 1, .rmsprop)
        recipe.callbackValues[StepProfiler.flag] = .string(path)
        let data = SyntheticCIFAR.make(trainCount: 64, testCount: 16)
        _ = try recipe.run(data: { data }, log: { _ in })
        let report = try #require(JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: path))))
        let breakdown = try #require(StepBreakdown(json: report))
        // 64 samples in steps of 16, 3 epochs.
        #expect(breakdown.steps == 12)
        let sum = breakdown.parts.reduce(0) { $0 + $1.microseconds }
        #expect(abs(sum - breakdown.stepMicroseconds) < 1e-6 * breakdown.stepMicroseconds + 1e-9, "\(sum) against \(breakdown.stepMicroseconds)")
        #expect(breakdown.parts.allSatisfy { $0.microseconds >= 0 })
        #expect(breakdown.parts.map(\.name) == StepProfile.Part.allCases.map(\.name))
        #expect(breakdown.parts.first { $0.name == StepProfile.Part.forwardProducts.name }!.microseconds > 0)
        // Dense(16) on 3072 inputs, then Dense(100): 3072·16 + 16 + 16·100 + 100 weights; RMSprop
        // reads each value, gradient and velocity and writes the value and the velocity: 5 floats.
        #expect(breakdown.optimizerBytes == (3072 * 16 + 16 + 16 * 100 + 100) * 4 * 5)
        // 16 samples of 3072 bytes read, 3072 floats written.
        #expect(breakdown.gatherBytes == 16 * 3072 * 5)
    }
}
