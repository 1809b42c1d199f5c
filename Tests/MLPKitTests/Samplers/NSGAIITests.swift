import Foundation
@testable import MLPKit
import Testing

/// NSGA-II's bookkeeping as Optuna's `NSGAIISampler` keeps it, worked by hand on small
/// populations: generations, parents, children.
@Suite struct NSGAIITests {
    static let objectives = SearchObjectives([Monitor("val_accuracy"), Monitor("params")])

    static func trial(_ number: Int, _ accuracy: Double, _ params: Double, status: TrialRecord.Status = .completed) -> TrialRecord {
        var record = TrialRecord(number: number, hyperparameters: HyperparameterValues(values: [
            "learning_rate": .double(1e-3 * Double(number + 1)), "units": .int([64, 128, 256, 512][number % 4]),
        ]), epochs: 1, initialEpoch: 0, seed: 0)
        (record.status, record.score, record.values) = (status, accuracy, [accuracy, params])
        return record
    }

    static func sampler(population: Int) -> NSGAIISampler {
        var sampler = NSGAIISampler(space: try! SearchSpace(entries: [("learning_rate", .logUniform(1e-4, 1e-1)),
                                                                       ("units", .choice([.int(64), .int(128), .int(256), .int(512)]))]),
                                    seed: 1, objectives: objectives)
        sampler.populationSize = population
        return sampler
    }

    /// `get_trial_generation` by hand, population 3: a trial joins the newest generation among
    /// the completed trials before it while it has fewer than 3, else opens the next; a failed
    /// trial counts in none.
    @Test func generationsFillInTurn() {
        let sampler = Self.sampler(population: 3)
        let records = (0..<7).map { Self.trial($0, 0.1 * Double($0), 1000) }
        #expect(sampler.generations(records) == [0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 2])
        var withFailure = records
        withFailure[1].status = .failed
        #expect(sampler.generations(withFailure) == [0: 0, 1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 1])
    }

    /// Generation 1's parents are generation 0 whole (it fits); generation 2's are the elite of
    /// generation 1 and those parents: the front {5 (0.9, 3000), 2 (0.5, 1000), 4 (0.2, 500)},
    /// where 0, 1, 3 are each dominated.
    @Test func parentsAreTheElite() {
        let sampler = Self.sampler(population: 3)
        let records = [Self.trial(0, 0.3, 2000), Self.trial(1, 0.1, 1500), Self.trial(2, 0.5, 1000),
                       Self.trial(3, 0.4, 4000), Self.trial(4, 0.2, 500), Self.trial(5, 0.9, 3000)]
        let generations = sampler.generations(records)
        #expect(sampler.parentPopulation(0, records: records, generations: generations).isEmpty)
        #expect(Set(sampler.parentPopulation(1, records: records, generations: generations).map(\.number)) == [0, 1, 2])
        #expect(Set(sampler.parentPopulation(2, records: records, generations: generations).map(\.number)) == [2, 4, 5])
    }

    /// A child's values come from its parents, but for about one value in the space's count
    /// drawn afresh (mutation 1/2 here): over 400 children, each key's value is a parent's in
    /// 45% to 95% of them; and a constrained-dominated trial loses every tournament it can.
    @Test func childrenMixTheirParents() {
        let sampler = Self.sampler(population: 3)
        let parents = [Self.trial(0, 0.3, 2000), Self.trial(1, 0.1, 1500), Self.trial(2, 0.5, 1000)]
        var random = SeededGenerator(seed: 9)
        var inherited = ["learning_rate": 0, "units": 0]
        for _ in 0..<400 {
            let child = sampler.child(of: parents, random: &random)
            for key in inherited.keys where parents.contains(where: { $0.hyperparameters[key] == child[key] }) { inherited[key]! += 1 }
        }
        #expect(inherited.values.allSatisfy { (150...390).contains($0) }, "\(inherited)")
        var feasible = Self.trial(0, 0.1, 9000), broken = Self.trial(1, 0.9, 10)
        (feasible.constraints, broken.constraints) = ([-1], [5])
        #expect(sampler.dominates(feasible, broken) && !sampler.dominates(broken, feasible))
        var worse = Self.trial(2, 0.9, 10)
        worse.constraints = [7]
        #expect(sampler.dominates(broken, worse) && !sampler.dominates(worse, broken))
    }
}
