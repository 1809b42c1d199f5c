import Foundation
import Testing
@testable import MLPKit

/// The SVG charts as a reader sees them: every legend below its frame, every metric plotted,
/// a search's best trial marked and its progress inside the frame, no axis of a score below 0.
@Suite struct ChartTests {
    /// A frame (the plotting area) of a panel: its left, top, right and bottom.
    typealias Frame = (left: Double, top: Double, right: Double, bottom: Double)

    func attribute(_ name: String, in element: Substring) -> Double? {
        guard let range = element.range(of: " \(name)=\"") else { return nil }
        return Double(element[range.upperBound...].prefix { $0 != "\"" })
    }

    func frames(_ svg: String) -> [Frame] {
        svg.split(separator: "\n").filter { $0.hasPrefix("<rect x=") && $0.contains("stroke=\"#333\"") }.compactMap { line in
            guard let x = attribute("x", in: line), let y = attribute("y", in: line), let w = attribute("width", in: line),
                  let h = attribute("height", in: line) else { return nil }
            return (x, y, x + w, y + h)
        }
    }

    /// The y of each text element whose content is `label`.
    func textPositions(_ svg: String, _ label: String) -> [Double] {
        svg.split(separator: "\n").filter { $0.hasPrefix("<text") && $0.hasSuffix(">\(label)</text>") }.compactMap { attribute("y", in: $0) }
    }

    /// The numbers of the tick labels (text elements that are numbers).
    func tickNumbers(_ svg: String) -> [Double] {
        svg.split(separator: "\n").filter { $0.hasPrefix("<text") }.compactMap { line in
            guard let start = line.firstIndex(of: ">"), let end = line.range(of: "</text>") else { return nil }
            return Double(line[line.index(after: start)..<end.lowerBound])
        }
    }

    func history(_ epochs: [Logs]) throws -> History {
        let history = History()
        let context = TrainingContext(model: Sequential.mlp(inputShape: [4], hidden: [], classes: 2, seed: 1), optimizer: SGD(),
                                      options: TrainingOptions(), stepsPerEpoch: 1)
        for (epoch, logs) in epochs.enumerated() {
            var logs = logs
            try history.epochEnd(epoch, logs: &logs, context)
        }
        return history
    }

    /// Learning curves: the legends sit below the frames (never on a curve), and a monitored
    /// val_auc gets a panel of its own.
    @Test func learningCurvesLegendsAndMetrics() throws {
        let run = try history((0..<6).map { e in
            let x = Double(e)
            return Logs(["loss": 2 - 0.3 * x, "accuracy": 0.2 + 0.1 * x, "val_loss": 2 - 0.1 * x, "val_accuracy": 0.2 + 0.05 * x,
                         "val_auc": 0.7 + 0.02 * x])
        })
        let svg = LearningCurves.svg(history: run, monitor: Monitor("val_auc"), bestEpoch: nil, stoppedEpoch: nil)
        let panels = frames(svg)
        #expect(panels.count == 3)
        #expect(svg.contains(">ROC AUC</text>"))
        let lowest = try #require(panels.map(\.bottom).max())
        let legend = textPositions(svg, "training") + textPositions(svg, "validation")
        #expect(legend.count == 5, "2 + 2 + 1 (val_auc has no training curve)")
        #expect(legend.allSatisfy { $0 > lowest + 30 }, "legend at \(legend), frames end at \(lowest)")
        #expect(svg.contains("best val_auc 0.8000 (epoch 6)"))
    }

    /// A search of one trial: the best-so-far panel shows it, axes start at 0 minutes and
    /// stay in the score's range, and the best trial is marked in every panel.
    @Test func trialsChartOfOneTrial() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try runTool("mlp-tune", ["--data", fixture("cifar/cifar-100-python.tar.gz"), "--output-dir", folder.path,
                                              "--trials", "1", "--epochs", "1", "--units", "8", "--hidden-layers", "1", "--seed", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let svg = try String(contentsOf: folder.appendingPathComponent("trials.svg"), encoding: .utf8)
        let panels = frames(svg)
        #expect(panels.count == 6, "5 hyperparameters and the best so far")
        #expect(textPositions(svg, "best: trial 0").count == panels.count)
        // The progress panel's point is drawn (a dot: one trial has no line to draw).
        #expect(svg.components(separatedBy: "fill=\"#d62728\"").count - 1 >= panels.count)
        #expect(tickNumbers(svg).allSatisfy { $0 >= 0 }, "\(tickNumbers(svg).filter { $0 < 0 })")
    }

    /// Pruned trials are drawn, in grey at the score they were stopped with, beside the
    /// completed ones: two completed and one pruned trial give two blue dots and one grey dot
    /// in the hyperparameter's panel, and the legend names them.
    @Test func trialsChartShowsPrunedTrials() throws {
        let space = try SearchSpace(entries: [("units", .choice([.int(8), .int(16), .int(32)]))])
        let settings = TuningSettings(space: space, schedule: .trials(3, epochs: 2), objective: Monitor("val_accuracy"), seed: 0,
                                      validationSplit: 0.2)
        let records = [(8, TrialRecord.Status.completed, 0.5), (16, .completed, 0.6), (32, .pruned, 0.2)].enumerated().map { item in
            var record = TrialRecord(number: item.offset, hyperparameters: HyperparameterValues(values: ["units": .int(item.element.0)]),
                                     epochs: 2, initialEpoch: 0, seed: 0)
            (record.status, record.score) = (item.element.1, item.element.2)
            record.runs = [TrialRecord.Run(worker: "w", started: Date(timeIntervalSince1970: Double(item.offset)),
                                           finished: Date(timeIntervalSince1970: Double(item.offset) + 1))]
            return record
        }
        let svg = TrialsChart.svg(records: records, settings: settings)
        #expect(svg.contains("3 trials, 2 completed, 1 pruned"))
        #expect(svg.contains(">pruned (when stopped)</text>"))
        // One grey dot in the units panel and one in the legend.
        #expect(svg.components(separatedBy: "fill=\"#a0a0a0\"").count - 1 == 2)
    }

    /// A two-objective search's chart opens with its front: four trials, one dominated (1) and
    /// one breaking the constraint (3): the front's two trials joined by one red line, the
    /// infeasible one a light grey dot in every panel, and the best (feasible, on the front,
    /// most accurate) named.
    @Test func trialsChartDrawsTheFront() throws {
        let space = try SearchSpace(entries: [("units", .choice([.int(8), .int(16), .int(32), .int(64)]))])
        var settings = TuningSettings(space: space, schedule: .trials(4, epochs: 2), objective: Monitor("val_accuracy"), seed: 0,
                                      validationSplit: 0.2)
        let bound = try #require(ObjectiveConstraint("params<=300"))
        settings.objectives = SearchObjectives([Monitor("val_accuracy"), Monitor("params")], constraints: [bound])
        let records = [(8, 0.4, 100.0), (16, 0.3, 200.0), (32, 0.6, 250.0), (64, 0.9, 400.0)].enumerated().map { item in
            var record = TrialRecord(number: item.offset, hyperparameters: HyperparameterValues(values: ["units": .int(item.element.0)]),
                                     epochs: 2, initialEpoch: 0, seed: 0)
            (record.status, record.score, record.values) = (.completed, item.element.1, [item.element.1, item.element.2])
            record.constraints = [bound.value(item.element.2)]
            record.runs = [TrialRecord.Run(worker: "w", started: Date(timeIntervalSince1970: 0), finished: Date(timeIntervalSince1970: 1))]
            return record
        }
        let svg = TrialsChart.svg(records: records, settings: settings)
        #expect(svg.contains(">front: val_accuracy against params</text>") && svg.contains(">front (2 trials)</text>"))
        #expect(svg.contains("best val_accuracy 0.6000") && svg.contains(">best: trial 2</text>"))
        // The infeasible trial: a dot in the front panel and the units panel, and the legends'.
        #expect(svg.components(separatedBy: "fill=\"#c7c7c7\"").count - 1 == 4)
    }

    /// Two classes, [[2, 0], [1, 1]]: three filled cells shaded by their share of the row (1,
    /// 0.5, 0.5; the empty cell left blank), their counts written, each class named twice.
    @Test func confusionHeatmapShadesByRowShare() {
        let svg = ConfusionHeatmap.svg(confusion: [[2, 0], [1, 1]], classNames: ["cat", "dog"], title: "t")
        #expect(svg.components(separatedBy: "<title>").count - 1 == 3)
        #expect(svg.contains("<title>cat as cat: 2</title>") && svg.contains("<title>dog as cat: 1</title>"))
        #expect(svg.components(separatedBy: "fill=\"\(ConfusionHeatmap.color(1))\"><title>").count - 1 == 1)
        #expect(svg.components(separatedBy: "fill=\"\(ConfusionHeatmap.color(0.5))\"><title>").count - 1 == 2)
        #expect(ConfusionHeatmap.color(1) == "#08306b" && ConfusionHeatmap.color(0) == "#f7fbff")
        #expect(svg.components(separatedBy: ">dog</text>").count - 1 == 2)
    }

    /// Four samples whose top probabilities fall in three bins: three accuracy bars, three
    /// confidence dots, three count bars.
    @Test func reliabilityDiagramBars() {
        let p: [Float] = [0.5, 0.3, 0.2, 0.05, 0.9, 0.05, 0.92, 0.08, 0.0, 0.2, 0.2, 0.6]
        let report = Evaluation.report(probabilities: p, labels: [0, 1, 1, 2], classNames: ["a", "b", "c"])
        let bins = report.calibration.binStatistics() ?? []
        #expect(bins.filter { $0.count > 0 }.map(\.count) == [1, 1, 2])
        #expect(bins[13].accuracy == 0.5 && abs(bins[13].confidence - 0.91) < 1e-6)
        let svg = ReliabilityDiagram.svg(for: report, title: "t")
        #expect(svg.components(separatedBy: "fill=\"#1f77b4\" fill-opacity=\"0.75\"/>").count - 1 == 3 + 1)  // bars + legend
        #expect(svg.components(separatedBy: "fill=\"#7f7f7f\" fill-opacity=\"0.75\"/>").count - 1 == 3)
        #expect(svg.contains("ECE 0.4300"))
    }
}
