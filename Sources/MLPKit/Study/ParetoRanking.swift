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

    /// The good group of a multi-objective TPE: Optuna's `_split_complete_trials_multi_objective`.
    /// Whole fronts while they fit in `count`, then the front that does not fit is cut by greedy
    /// hypervolume subset selection against the reference point max(1.1·worst, 0.9·worst) (0
    /// becoming 1e-12). Returns the positions of the good trials.
    public static func goodTrials(_ losses: [[Double]], count: Int) -> Set<Int> {
        let count = min(count, losses.count)
        if count == 0 { return [] }
        if count == losses.count { return Set(losses.indices) }
        let ranks = nonDominationRanks(losses, below: count)
        var tally: [Int: Int] = [:]
        for rank in ranks { tally[rank, default: 0] += 1 }
        var (last, total) = (-1, 0)
        for rank in tally.keys.sorted() {
            total += tally[rank]!
            if total <= count { last = rank } else { break }
        }
        var good = Set(losses.indices.filter { ranks[$0] <= last })
        guard good.count < count else { return good }
        let tied = losses.indices.filter { ranks[$0] == last + 1 }
        good.formUnion(hypervolumeSubset(tied.map { losses[$0] }, size: count - good.count).map { tied[$0] })
        return good
    }

    /// Optuna's `_solve_hssp`: `size` of `points` (one front) chosen greedily by hypervolume
    /// contribution, the first of equal contributions; positions in `points`.
    static func hypervolumeSubset(_ points: [[Double]], size: Int) -> [Int] {
        if size == points.count { return Array(points.indices) }
        let worst = points[0].indices.map { m in points.map { $0[m] }.max()! }
        let reference = worst.map { w -> Double in
            let r = max(1.1 * w, 0.9 * w)
            return r == 0 ? 1e-12 : r
        }
        // The distinct points in lexicographic order, each with its first position.
        var firsts: [[Double]: Int] = [:]
        for (i, point) in points.enumerated() where firsts[point] == nil { firsts[point] = i }
        let unique = firsts.keys.sorted { $0.lexicographicallyPrecedes($1) }
        let uniqueIndices = unique.map { firsts[$0]! }
        if unique.count < size {
            var chosen = Set(uniqueIndices)
            let duplicates = points.indices.filter { !chosen.contains($0) }
            chosen.formUnion(duplicates.prefix(size - unique.count))
            return points.indices.filter { chosen.contains($0) }
        }
        guard reference.allSatisfy({ $0.isFinite }) else { return Array(uniqueIndices.prefix(size)) }
        if unique.count == size { return uniqueIndices }
        guard reference.count == 2 else { return greedySubset(unique, uniqueIndices, size: size, reference: reference) }
        var remaining = Array(unique.indices)
        var diagonals = [[Double]](repeating: reference, count: unique.count)
        var selected: [Int] = []
        for _ in 0..<size {
            let contributions = remaining.indices.map { k in (diagonals[k][0] - unique[remaining[k]][0]) * (diagonals[k][1] - unique[remaining[k]][1]) }
            var best = 0
            for k in contributions.indices where contributions[k] > contributions[best] { best = k }
            let point = unique[remaining[best]]
            selected.append(uniqueIndices[remaining[best]])
            remaining.remove(at: best)
            diagonals.remove(at: best)
            for k in 0..<best { diagonals[k][0] = min(point[0], diagonals[k][0]) }
            for k in best..<remaining.count { diagonals[k][1] = min(point[1], diagonals[k][1]) }
        }
        return selected
    }

    /// The greedy selection for three objectives or more: each step takes the point whose
    /// addition grows the selection's hypervolume most (Optuna's lazy updates skip only
    /// points that cannot win, so the choice is the same).
    static func greedySubset(_ unique: [[Double]], _ positions: [Int], size: Int, reference: [Double]) -> [Int] {
        var remaining = Array(unique.indices), chosen: [[Double]] = [], selected: [Int] = []
        var volume = 0.0
        for _ in 0..<size {
            var best = 0, bestGain = -Double.infinity
            for (k, point) in remaining.enumerated() {
                let gain = hypervolume(chosen + [unique[point]], reference: reference) - volume
                if gain > bestGain { (best, bestGain) = (k, gain) }
            }
            chosen.append(unique[remaining[best]])
            selected.append(positions[remaining[best]])
            volume += bestGain
            remaining.remove(at: best)
        }
        return selected
    }

    /// The hypervolume `points` dominate up to `reference` (every point within it): a sweep
    /// in two dimensions, slices along the last objective above.
    public static func hypervolume(_ points: [[Double]], reference: [Double]) -> Double {
        guard !points.isEmpty else { return 0 }
        let d = reference.count
        if d == 1 { return reference[0] - points.map { $0[0] }.min()! }
        if d == 2 {
            var (volume, floor) = (0.0, reference[1])
            for point in points.sorted(by: { ($0[0], $0[1]) < ($1[0], $1[1]) }) where point[1] < floor {
                volume += (reference[0] - point[0]) * (floor - point[1])
                floor = point[1]
            }
            return volume
        }
        let sorted = points.sorted { $0[d - 1] < $1[d - 1] }
        var volume = 0.0
        for i in sorted.indices {
            let next = i + 1 < sorted.count ? sorted[i + 1][d - 1] : reference[d - 1]
            guard next > sorted[i][d - 1] else { continue }
            volume += (next - sorted[i][d - 1]) * hypervolume(sorted[...i].map { Array($0.prefix(d - 1)) }, reference: Array(reference.prefix(d - 1)))
        }
        return volume
    }

    /// Python's `list.sort(key=...)`: stable.
    static func stableSorted(_ items: [Int], by less: (Int, Int) -> Bool) -> [Int] {
        items.enumerated().sorted { a, b in less(a.element, b.element) || (!less(b.element, a.element) && a.offset < b.offset) }
            .map(\.element)
    }
}
