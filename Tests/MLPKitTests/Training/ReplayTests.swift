import Foundation
import Testing
@testable import MLPKit

/// Fifty of Keras 3's own `fit` steps replayed through `Trainer.fit`: Keras's batch order and
/// dropout masks (recorded by Fixtures/training/replay.py), from Keras's initial weights. After
/// steps 1, 10 and 50, every weight, moving statistic and optimizer slot equals Keras's within
/// 1e-5 (relative above 1), and the optimizer has counted as many steps. Step 50 shows what one
/// step cannot: a moving statistic or a step count that drifts.
@Suite struct ReplayTests {
    static let checked = [1, 10, 50]

    /// Keeps the weights and the optimizer's slots after the checked steps, counting steps
    /// across the calls of `fit` it is passed to.
    final class Snapshots: Callback {
        let model: Sequential, optimizer: Optimizer
        var steps = 0
        var taken: [Int: (weights: [[Float]], slots: [[Float]], iterations: Int)] = [:]
        init(model: Sequential, optimizer: Optimizer) { (self.model, self.optimizer) = (model, optimizer) }

        func batchEnd(_ batch: Int, logs: BatchLogs, _ context: TrainingContext) throws {
            steps += 1
            guard ReplayTests.checked.contains(steps) else { return }
            taken[steps] = (model.parameters.map(\.value.array), optimizer.orderedSlots.map(\.array), optimizer.iterations)
        }
    }

    /// Trains `model` (built as Keras's, then given Keras's initial weights) epoch by epoch on
    /// the samples in Keras's order, and compares the snapshots with Keras's.
    func replay(_ key: String, model: Sequential, optimizer: Optimizer) throws {
        let learningRate = optimizer.learningRate
        let file = try H5Group.open(path: fixture("training/replay.h5"))
        let group = try file.group(key)
        let x = try file.readFloats("x"), labels = try file.readFloats("labels").values.map { Int32($0) }
        let features = x.shape[1], classes = 100, batch = 32
        let order = try group.readFloats("order")
        let weightNames = try group.strings("weight_names"), slotNames = try group.strings("slot_names")
        #expect(weightNames.count == model.parameters.count, "\(weightNames)")
        for (index, parameter) in model.parameters.enumerated() {
            let (values, shape) = try group.readFloats("before/\(index)")
            #expect(values.count == parameter.count, "\(weightNames[index]): \(shape)")
            parameter.value.assign(values)
        }
        if let dropout = model.layers.compactMap({ $0 as? Dropout }).first {
            let masks = try group.readFloats("masks")
            let scale = try #require(try group.readFloats("dropout_scale").values.first)
            let width = masks.shape[2]
            var replayed: [[Float]] = []
            for step in 0..<masks.shape[0] {
                let rows = (0..<batch).filter { order.values[step * batch + $0] >= 0 }.count
                let start = step * batch * width
                replayed.append(masks.values[start..<(start + rows * width)].map { $0 * scale })
            }
            dropout.replayedMasks = replayed
        }

        let snapshots = Snapshots(model: model, optimizer: optimizer)
        let steps = order.shape[0], stepsPerEpoch = (labels.count + batch - 1) / batch
        #expect(steps % stepsPerEpoch == 0 && steps >= Self.checked.last!)
        for epoch in 0..<(steps / stepsPerEpoch) {
            let rows = order.values[(epoch * stepsPerEpoch * batch)..<((epoch + 1) * stepsPerEpoch * batch)].filter { $0 >= 0 }.map { Int($0) }
            #expect(Set(rows).count == labels.count, "epoch \(epoch) does not take every sample once")
            let data = ImageDataset(features: rows.flatMap { x.values[($0 * features)..<(($0 + 1) * features)] },
                                    labels: rows.map { labels[$0] }, shape: [features], classNames: (0..<classes).map(String.init))
            _ = try Trainer.fit(model: model, optimizer: optimizer, train: data,
                                options: TrainingOptions(endEpoch: epoch + 1, initialEpoch: epoch, batchSize: batch, shuffle: false,
                                                         compute: ComputeOptions(threads: 2)),
                                callbacks: [snapshots])
        }

        for step in Self.checked {
            let ours = try #require(snapshots.taken[step], "no snapshot after step \(step)")
            let saved = try group.group("step_\(step)")
            #expect(ours.iterations == Int(try saved.readInt64("iterations")), "step \(step)")
            #expect(ours.slots.count == slotNames.count, "step \(step): \(ours.slots.count) slots against Keras's \(slotNames)")
            let theirSlots = try slotNames.indices.map { try saved.readFloats("slots/\($0)").values }
            for (name, (mine, theirs)) in zip(slotNames, zip(ours.slots, theirSlots)) {
                try Self.expectClose(mine, theirs, "after step \(step), \(name)")
            }
            var noiseTotal = 0
            for (index, (name, mine)) in zip(weightNames, ours.weights).enumerated() {
                var theirs = try saved.readFloats("weights/\(index)").values
                // Values whose gradient was round-off in every step so far: Keras's velocity
                // slot (the mean square of the gradients) is above 0 and below 1e-14, where a
                // real gradient's is above 1e-9. Such a value moves by round-off over its own root
                // (a bias before BatchNormalization whose ReLU passed every row of the batch
                // has a gradient of exactly 0 in exact arithmetic), so both frameworks' steps
                // are noise. They are held to the bound of Adam's and RMSprop's steps instead,
                // and our velocity must be round-off too.
                let velocity = slotNames.firstIndex { $0.split(separator: "/").last.map(String.init) == name.replacingOccurrences(of: "/", with: "_") + "_velocity" }
                var noise = 0
                if let velocity, mine.count == theirs.count {
                    for i in mine.indices where theirSlots[velocity][i] > 0 && theirSlots[velocity][i] < 1e-14 {
                        noise += 1
                        #expect(ours.slots[velocity][i] < 1e-12, "after step \(step), \(name)[\(i)]: a real gradient where Keras's is round-off")
                        #expect(abs(mine[i] - theirs[i]) <= 6.4 * learningRate * Float(step), "after step \(step), \(name)[\(i)]")
                        theirs[i] = mine[i]
                    }
                }
                // Not a way out for a defect: few values are round-off.
                #expect(noise <= mine.count / 4, "after step \(step), \(name): \(noise) of \(mine.count) values with round-off gradients")
                noiseTotal += noise
                try Self.expectClose(mine, theirs, "after step \(step), \(name)")
            }
            let values = ours.weights.map(\.count).reduce(0, +)
            #expect(noiseTotal <= values / 100, "after step \(step): \(noiseTotal) of \(values) values with round-off gradients")
        }
    }

    /// Within 1e-5, relative above 1.
    static func expectClose(_ mine: [Float], _ theirs: [Float], _ what: String) throws {
        #expect(mine.count == theirs.count, "\(what): \(mine.count) values against Keras's \(theirs.count)")
        let worst = zip(mine, theirs).map { abs(Double($0) - Double($1)) / max(1, abs(Double($1))) }.max() ?? 0
        #expect(worst <= 1e-5, "\(what) differs from Keras's by \(worst)")
    }

    @Test func regularizedAdamFiftySteps() throws {
        let model = Sequential.mlp(inputShape: [32], hidden: [HiddenLayerSpec(units: 256, activation: .relu)], classes: 100,
                                   dropout: 0.2, l2: 1e-3, batchNorm: true, seed: 0)
        #expect(model.layers.map(\.kerasClassName) == ["Dense", "BatchNormalization", "Dropout", "Dense"])
        try replay("regularized", model: model, optimizer: Adam(learningRate: 1e-4))
    }

    @Test func baselineRMSpropFiftySteps() throws {
        let model = Sequential.mlp(inputShape: [32], hidden: [HiddenLayerSpec(units: 128, activation: .relu)], classes: 100, seed: 0)
        try replay("baseline", model: model, optimizer: RMSprop(learningRate: 1e-3))
    }
}
