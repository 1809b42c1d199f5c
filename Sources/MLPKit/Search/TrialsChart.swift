import Foundation

/// A search's chart: the score of every completed trial against each hyperparameter (a log
/// axis for a log-uniform one, categories side by side for a choice of names), pruned trials
/// in grey at the score they were stopped with, and the best score so far against the minutes
/// since the search began. With several objectives, the first panel is the front: the first
/// objective against the second, every completed trial a dot (grey when it breaks a
/// constraint), the front's trials joined.
enum TrialsChart {
    static func svg(records: [TrialRecord], settings: TuningSettings) -> String {
        let scored = records.filter { $0.status == .completed && $0.score.map(\.isFinite) == true }
        let objective = settings.objectives.first.name
        // The best trial (feasible, and on the front with several objectives), marked in every panel.
        let bestTrial = settings.objectives.best(records)
        // The scores' range, within what the objective can be (0 to 1 for accuracy and AUC, 0 up for loss).
        let stopped = records.filter { $0.status == .pruned && $0.score.map(\.isFinite) == true }
        let scores = (scored + stopped).compactMap(\.score)
        let padded = Chart.paddedRange(scores.min() ?? 0, scores.max() ?? 1, padding: 0.05)
        let ceiling = objective.hasSuffix("loss") || objective == SearchObjectives.parameterCount ? Double.infinity : 1
        let yRange = max(padded.lowerBound, 0)...max(min(padded.upperBound, ceiling), padded.lowerBound + 1e-9)
        // Trials that break a constraint are drawn in grey, as pruned ones.
        let feasible = scored.filter(SearchObjectives.isFeasible), broken = scored.filter { !SearchObjectives.isFeasible($0) }
        var panels = settings.space.entries.map {
            panel(key: $0.key, distribution: $0.distribution, scored: feasible, pruned: stopped, broken: broken, best: bestTrial,
                  objective: objective, yRange: yRange)
        }
        if settings.objectives.isMultiObjective { panels.insert(frontPanel(records: records, objectives: settings.objectives), at: 0) }
        // The best so far counts only trials that keep the constraints.
        let (progress, best) = bestSoFar(records: records, scored: scored.filter(SearchObjectives.isFeasible), objective: settings.objectives.first)
        // From the search's start to a little past its last trial, so every improvement is inside the frame.
        let lastMinute = max(progress.map(\.x).max() ?? 0, 0.001)
        panels.append(ChartPanel(title: "best \(objective) so far", xLabel: "minutes since the search began", yLabel: objective,
                                 series: [ChartPanel.Series(label: bestTrial.map { "best: trial \($0.number)" } ?? "", points: progress,
                                                            color: "#d62728", dots: progress.count == 1)],
                                 xRange: (-lastMinute * 0.03)...(lastMinute * 1.08), yRange: yRange))
        let failed = records.filter { $0.status == .failed }.count
        let pruned = records.filter { $0.status == .pruned }.count
        let title = "\(counted(records.count, "trial")), \(scored.count) completed" + (pruned > 0 ? ", \(pruned) pruned" : "")
            + (failed > 0 ? ", \(failed) failed" : "")
            + (best.map { "; best \(objective) " + String(format: "%.4f", $0) } ?? "")
        return Chart.svg(title: title, panels: panels, columns: 3, panelWidth: 320, panelHeight: 220)
    }

    /// The first objective against the second, the front joined in the second's order.
    private static func frontPanel(records: [TrialRecord], objectives: SearchObjectives) -> ChartPanel {
        let (y, x) = (objectives.objectives[0].name, objectives.objectives[1].name)
        func point(_ record: TrialRecord) -> (x: Double, y: Double)? {
            guard let values = objectives.values(of: record), values[0].isFinite, values[1].isFinite else { return nil }
            return (values[1], values[0])
        }
        let completed = records.filter { $0.status == .completed }
        let feasible = completed.filter(SearchObjectives.isFeasible), broken = completed.filter { !SearchObjectives.isFeasible($0) }
        let front = objectives.front(records).compactMap(point).sorted { ($0.x, $0.y) < ($1.x, $1.y) }
        var series = [ChartPanel.Series(label: "trials", points: feasible.compactMap(point), color: "#1f77b4", dots: true)]
        if !broken.isEmpty {
            series.append(ChartPanel.Series(label: "breaks a constraint", points: broken.compactMap(point), color: "#c7c7c7", dots: true))
        }
        series.append(ChartPanel.Series(label: "front (\(counted(front.count, "trial")))", points: front, color: "#d62728", dots: front.count == 1))
        let all = completed.compactMap(point)
        return ChartPanel(title: "front: \(y) against \(x)", xLabel: x, yLabel: y, series: series,
                          xRange: Chart.paddedRange(all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1, padding: 0.05),
                          yRange: Chart.paddedRange(all.map(\.y).min() ?? 0, all.map(\.y).max() ?? 1, padding: 0.05))
    }

    /// The scores against one hyperparameter's values: a log axis for a log-uniform one,
    /// categories side by side for a choice of names; the best trial marked.
    private static func panel(key: String, distribution: Distribution, scored: [TrialRecord], pruned: [TrialRecord], broken: [TrialRecord],
                              best bestTrial: TrialRecord?, objective: String, yRange: ClosedRange<Double>) -> ChartPanel {
        var labels: [Double: String] = [:]
        var categories: [HyperValue] = []
        if case .choice(let values) = distribution, values.contains(where: { $0.number == nil }) { categories = values }
        func point(_ record: TrialRecord) -> (x: Double, y: Double)? {
            guard let value = record.hyperparameters[key], let score = record.score else { return nil }
            if !categories.isEmpty { return categories.firstIndex(of: value).map { (Double($0), score) } }
            guard let number = value.number else { return nil }
            return (distribution.isLogarithmic ? log10(number) : number, score)
        }
        var xRange: ClosedRange<Double>? = nil
        if !categories.isEmpty {
            for (index, value) in categories.enumerated() { labels[Double(index)] = value.description }
            xRange = -0.5...(Double(categories.count) - 0.5)
        }
        var series = [ChartPanel.Series(label: "trials", points: scored.compactMap(point), color: "#1f77b4", dots: true)]
        if !pruned.isEmpty {
            series.append(ChartPanel.Series(label: "pruned (when stopped)", points: pruned.compactMap(point), color: "#a0a0a0", dots: true))
        }
        if !broken.isEmpty {
            series.append(ChartPanel.Series(label: "breaks a constraint", points: broken.compactMap(point), color: "#c7c7c7", dots: true))
        }
        series += [
                      ChartPanel.Series(label: bestTrial.map { "best: trial \($0.number)" } ?? "",
                                        points: bestTrial.flatMap(point).map { [$0] } ?? [], color: "#d62728", dots: true)]
        var panel = ChartPanel(title: "\(objective) by \(key)", xLabel: key + (distribution.isLogarithmic ? " (log scale)" : ""),
                               yLabel: objective, series: series, xRange: xRange ?? bounds(distribution), yRange: yRange)
        if !categories.isEmpty {
            panel.xTicks = categories.indices.map(Double.init)
        } else if case .choice(let values) = distribution {
            panel.xTicks = values.compactMap(\.number)
        } else if case .int = distribution {
            panel.xTicks = panel.xTicks.filter { $0 == $0.rounded() }
        } else if distribution.isLogarithmic {
            panel.xTicks = panel.xTicks.filter { $0 == $0.rounded() }
            for tick in panel.xTicks { labels[tick] = "1e\(Int(tick))" }
        }
        panel.xTickLabels = labels
        return panel
    }

    /// The best score so far, a step at each improvement, by the minutes since the first trial
    /// started; and the best score.
    private static func bestSoFar(records: [TrialRecord], scored: [TrialRecord], objective: Monitor) -> ([(x: Double, y: Double)], Double?) {
        let start = records.compactMap { $0.runs.first?.started }.min() ?? Date()
        var best: Double?, progress: [(x: Double, y: Double)] = []
        for record in scored.sorted(by: { finish($0) < finish($1) }) {
            guard let score = record.score else { continue }
            let minutes = finish(record).timeIntervalSince(start) / 60
            if let previous = best { progress.append((minutes, previous)) }
            if best == nil || objective.isBetter(score, than: best!) { best = score }
            progress.append((minutes, best!))
        }
        return (progress, best)
    }

    private static func finish(_ record: TrialRecord) -> Date { record.runs.last?.finished ?? record.runs.last?.started ?? Date() }

    /// The axis range a distribution's values span (log10 for a log-uniform one).
    private static func bounds(_ distribution: Distribution) -> ClosedRange<Double>? {
        switch distribution {
        case .logUniform(let a, let b): return Chart.paddedRange(log10(a), log10(b), padding: 0.05)
        case .uniform(let a, let b): return Chart.paddedRange(a, b, padding: 0.05)
        case .int(let a, let b): return Chart.paddedRange(Double(a), Double(b), padding: 0.1)
        case .choice(let values):
            let numbers = values.compactMap(\.number)
            guard let low = numbers.min(), let high = numbers.max() else { return nil }
            return Chart.paddedRange(low, high, padding: 0.1)
        }
    }
}
