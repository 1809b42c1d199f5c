import Foundation

/// Several objectives at once: which trials dominate which, the fronts they fall into, and
/// NSGA-II's crowding distance and elite selection, as Optuna 5 computes them
/// (`optuna.study._multi_objective._fast_non_domination_rank`,
/// `optuna.samplers.nsgaii._elite_population_selection_strategy`). Values are losses here:
/// lower is better in every objective (a maximized objective is negated first).
public enum ParetoRanking {
    /// Whether `a` dominates `b`: no worse in every objective and better in one.
    public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
        zip(a, b).allSatisfy { $0 <= $1 } && zip(a, b).contains { $0 < $1 }
    }

    /// Each point's front, from 0 (non-dominated) up: the fronts of the distinct points peeled
    /// one after another, equal points sharing a rank. With one objective, the rank of the
    /// value among the distinct values. With `below`, only fronts until that many distinct
    /// points are ranked; the rest share the next rank (as Optuna's `n_below`).
    public static func nonDominationRanks(_ losses: [[Double]], below: Int? = nil) -> [Int] {
        guard !losses.isEmpty else { return [] }
        if let below, below <= 0 { return [Int](repeating: 0, count: losses.count) }
        let distinct = Array(Set(losses.map { $0.map { $0 == 0 ? 0 : $0 } })).sorted { $0.lexicographicallyPrecedes($1) }
        let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        var ranks = [Int](repeating: 0, count: distinct.count)
        if losses[0].count == 1 {
            ranks = Array(distinct.indices)
        } else {
            var remaining = Array(distinct.indices)
            let target = min(below ?? distinct.count, distinct.count)
            var rank = 0
            while distinct.count - remaining.count < target {
                let front = remaining.filter { i in !remaining.contains { j in j != i && dominates(distinct[j], distinct[i]) } }
                for i in front { ranks[i] = rank }
                remaining.removeAll { front.contains($0) }
                rank += 1
            }
            for i in remaining { ranks[i] = rank }
        }
        return losses.map { ranks[index[$0.map { $0 == 0 ? 0 : $0 }]!] }
    }

    /// Ranks with constraints: feasible points (penalty ≤ 0) by their fronts, then infeasible
    /// ones after them by their penalty alone (the sum of their positive constraint values).
    public static func nonDominationRanks(_ losses: [[Double]], penalties: [Double], below: Int? = nil) -> [Int] {
        precondition(penalties.count == losses.count)
        let below = below ?? losses.count
        let feasible = penalties.indices.filter { penalties[$0] <= 0 }, infeasible = penalties.indices.filter { penalties[$0] > 0 }
        var ranks = [Int](repeating: -1, count: losses.count)
        for (i, rank) in zip(feasible, nonDominationRanks(feasible.map { losses[$0] }, below: below)) { ranks[i] = rank }
        let top = (feasible.map { ranks[$0] }.max() ?? -1) + 1
        let penaltyRanks = nonDominationRanks(infeasible.map { [penalties[$0]] }, below: below - feasible.count)
        for (i, rank) in zip(infeasible, penaltyRanks) { ranks[i] = top + rank }
        return ranks
    }

    /// NSGA-II's crowding distance of each point of one front, by position in `values`: per
    /// objective whose values are not all equal, the gap between a point's two neighbours in
    /// that objective's order over the width of the finite values (infinite at the ends, an
    /// infinite gap between equal infinities counted 0), summed. Also returns the order the
    /// points are left in: sorted (stably) by each objective in turn, as Optuna sorts the
    /// population list in place.
    public static func crowdingDistances(_ values: [[Double]]) -> (distances: [Double], order: [Int]) {
        var distances = [Double](repeating: 0, count: values.count)
        var order = Array(values.indices)
        guard let objectives = values.first?.count else { return (distances, order) }
        for m in 0..<objectives {
            order = stableSorted(order) { values[$0][m] < values[$1][m] }
            guard values[order.first!][m] != values[order.last!][m] else { continue }
            let sorted = [-Double.infinity] + order.map { values[$0][m] } + [Double.infinity]
            let low = sorted.first { $0 != -.infinity }!, high = sorted.last { $0 != .infinity }!
            var width = high - low
            if !(width > 0) { width = 1 }
            for (position, point) in order.enumerated() {
                let gap = sorted[position] == sorted[position + 2] ? 0 : sorted[position + 2] - sorted[position]
                distances[point] += gap / width
            }
        }
        return (distances, order)
    }

    /// NSGA-II's elite population: whole fronts while they fit in `size`, then the last front's
    /// points with the largest crowding distance (Optuna's tie order: its stable sort by
    /// distance, reversed). The fronts are of the losses (each maximized objective negated), the
    /// crowding distances of the values as they are, as Optuna takes them. Returns positions
    /// in `values`, in selection order.
    public static func elite(_ values: [[Double]], maximize: [Bool], penalties: [Double]? = nil, size: Int) -> [Int] {
        let losses = values.map { row in zip(row, maximize).map { $1 ? -$0 : $0 } }
        let ranks = penalties.map { nonDominationRanks(losses, penalties: $0) } ?? nonDominationRanks(losses)
        guard let worst = ranks.max() else { return [] }
        var chosen: [Int] = []
        for rank in 0...worst {
            let front = losses.indices.filter { ranks[$0] == rank }
            if chosen.count + front.count < size {
                chosen += front
                continue
            }
            let (distances, order) = crowdingDistances(front.map { values[$0] })
            let byDistance = stableSorted(order) { distances[$0] < distances[$1] }.reversed()
            chosen += byDistance.prefix(size - chosen.count).map { front[$0] }
            break
        }
        return chosen
    }

    /// Python's `list.sort(key=...)`: stable.
    static func stableSorted(_ items: [Int], by less: (Int, Int) -> Bool) -> [Int] {
        items.enumerated().sorted { a, b in less(a.element, b.element) || (!less(b.element, a.element) && a.offset < b.offset) }
            .map(\.element)
    }
}
