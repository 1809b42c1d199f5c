import Foundation
import Testing
@testable import MLPKit

/// Fronts, crowding distances and NSGA-II's elite selection against Optuna 5's own functions on
/// recorded populations (`Fixtures/tuning/make_nsga2.py`: 1 to 3 objectives, both directions,
/// ties, a duplicate point, infinities, constraints).
@Suite struct ParetoRankingTests {
    struct Population {
        var losses: [[Double]]
        var penalties: [Double]?
        var case_: [String: Any]
    }

    static func populations() throws -> [Population] {
        let cases = try #require(try jsonFixture("tuning/nsga2.json")["populations"] as? [[String: Any]])
        try #require(cases.count == 7)
        return try cases.map { item in
            let directions = try #require(item["directions"] as? [String])
            let values = try #require(item["values"] as? [[String]]).map { row in
                try row.map { try #require(Double($0 == "inf" ? "infinity" : $0 == "-inf" ? "-infinity" : $0)) }
            }
            let losses = values.map { row in zip(row, directions).map { $1 == "maximize" ? -$0 : $0 } }
            let penalties = (item["constraints"] as? [[Double]])?.map { $0.filter { $0 > 0 }.reduce(0, +) }
            return Population(losses: losses, penalties: penalties, case_: item)
        }
    }

    @Test func ranksAreOptunas() throws {
        for (index, p) in try Self.populations().enumerated() {
            let below = try #require(p.case_["below"] as? Int)
            let ranks = p.penalties.map { ParetoRanking.nonDominationRanks(p.losses, penalties: $0) } ?? ParetoRanking.nonDominationRanks(p.losses)
            #expect(ranks == p.case_["ranks"] as? [Int], "population \(index)")
            let partial = p.penalties.map { ParetoRanking.nonDominationRanks(p.losses, penalties: $0, below: below) }
                ?? ParetoRanking.nonDominationRanks(p.losses, below: below)
            #expect(partial == p.case_["ranks_below"] as? [Int], "population \(index), n_below \(below)")
        }
    }

    @Test func crowdingDistancesAreOptunas() throws {
        for (index, p) in try Self.populations().enumerated() {
            // Optuna's values as given (its crowding distance takes them unsigned).
            let directions = try #require(p.case_["directions"] as? [String])
            let values = p.losses.map { row in zip(row, directions).map { $1 == "maximize" ? -$0 : $0 } }
            let (distances, order) = ParetoRanking.crowdingDistances(values)
            let expected = try #require(p.case_["crowding"] as? [String]).map { $0 == "inf" ? Double.infinity : Double($0)! }
            for (got, want) in zip(distances, expected) {
                #expect(got == want || abs(got - want) <= 1e-12 * abs(want), "population \(index): \(got) against \(want)")
            }
            #expect(order == p.case_["crowding_order"] as? [Int], "population \(index): order")
        }
    }

    @Test func eliteSelectionIsNSGAIIs() throws {
        for (index, p) in try Self.populations().enumerated() {
            let size = try #require(p.case_["elite_size"] as? Int)
            let maximize = try #require(p.case_["directions"] as? [String]).map { $0 == "maximize" }
            let values = p.losses.map { row in zip(row, maximize).map { $1 ? -$0 : $0 } }
            #expect(ParetoRanking.elite(values, maximize: maximize, penalties: p.penalties, size: size) == p.case_["elite"] as? [Int],
                    "population \(index)")
        }
    }

    /// The multi-objective TPE's good group, two and three objectives, several sizes: Optuna's
    /// `_split_complete_trials_multi_objective` (its last front cut by hypervolume subset
    /// selection: the 2-D sweep, or the greedy selection on n-D hypervolumes).
    @Test func multiObjectiveTPESplitIsOptunas() throws {
        // The hypervolume by hand: two boxes of 2×1×1 and 1×2×1 overlapping in 1×1×1, and a
        // point outside neither adding its own 1×1×1.
        #expect(ParetoRanking.hypervolume([[0, 1, 1], [1, 0, 1]], reference: [2, 2, 2]) == 3)
        #expect(ParetoRanking.hypervolume([[0, 1, 1], [1, 0, 1], [1, 1, 0]], reference: [2, 2, 2]) == 4)
        var compared = 0
        for (index, p) in try Self.populations().enumerated() {
            let splits = try #require(p.case_["tpe_good"] as? [String: [Int]])
            for (size, expected) in splits {
                let good = ParetoRanking.goodTrials(p.losses, count: try #require(Int(size)))
                #expect(good.sorted() == expected, "population \(index), \(size) good")
                compared += 1
            }
        }
        #expect(compared >= 30)
    }
}
