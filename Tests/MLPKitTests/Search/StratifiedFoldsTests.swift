import Foundation
@testable import MLPKit
import Testing

/// Cross-validated trials' folds, and the objectives' parts a search decides by.
@Suite struct StratifiedFoldsTests {
    /// Each fold's validation indices equal scikit-learn's `StratifiedKFold(n_splits,
    /// shuffle=True, random_state)` (Fixtures/tuning/make_folds.py): class-ordered, unbalanced,
    /// first-seen-out-of-order labels, and the largest 32-bit random_state.
    @Test func foldsAreScikitLearns() throws {
        let cases = try #require(try jsonFixture("tuning/folds.json")["cases"] as? [[String: Any]])
        try #require(cases.count == 6)
        for (index, item) in cases.enumerated() {
            let labels = try #require(item["labels"] as? [Int]).map { Int32($0) }
            let splits = try #require(item["n_splits"] as? Int)
            let state = try #require((item["random_state"] as? NSNumber)?.uint32Value)
            let folds = try StratifiedFolds(labels: labels, splits: splits, randomState: state)
            #expect(folds.validationIndices == (item["validation_indices"] as? [[Int]]), "case \(index)")
            // Every position is held out exactly once, and each fold's training part is the rest.
            #expect(folds.validationIndices.flatMap { $0 }.sorted() == Array(labels.indices), "case \(index)")
            #expect(folds.trainingIndices(0, count: labels.count).count + folds.validationIndices[0].count == labels.count)
        }
    }

    /// More folds than the smallest class, or fewer than two, is one error naming --folds.
    @Test func tooManyFoldsAreRefused() {
        let labels: [Int32] = [0, 0, 0, 1, 1, 2, 2, 2]
        #expect(throws: MLPError.setting("folds", problem: "3 is more than the 2 training images of class 1, the smallest class; give --folds 2 or fewer")) {
            try StratifiedFolds(labels: labels, splits: 3, randomState: 0)
        }
        #expect(throws: MLPError.setting("folds", problem: "1: cross-validation needs 2 folds or more")) {
            try StratifiedFolds(labels: labels, splits: 1, randomState: 0)
        }
    }

    /// Constraints parse as NAME<=X or NAME>=X and take Optuna's sign (≤ 0 when kept); the
    /// front and the best trial follow `study.best_trials` and `study.best_trial` by hand.
    @Test func constraintsAndFronts() throws {
        let bound = try #require(ObjectiveConstraint("params <= 200000"))
        #expect(bound.text == "params<=200000" && bound.value(150_000) == -50_000 && bound.value(250_000) == 50_000)
        let floor = try #require(ObjectiveConstraint("val_accuracy>=0.3"))
        #expect(floor.text == "val_accuracy>=0.3" && abs(floor.value(0.25) - 0.05) < 1e-15)
        #expect(ObjectiveConstraint("params<200000") == nil && ObjectiveConstraint("params<=") == nil && ObjectiveConstraint("<=3") == nil)

        let objectives = SearchObjectives([Monitor("val_accuracy"), Monitor("params")], constraints: [bound])
        func trial(_ number: Int, _ accuracy: Double, _ params: Double, status: TrialRecord.Status = .completed) -> TrialRecord {
            var record = TrialRecord(number: number, hyperparameters: HyperparameterValues(values: [:]), epochs: 1, initialEpoch: 0, seed: 0)
            (record.status, record.score, record.values) = (status, accuracy, [accuracy, params])
            record.constraints = [bound.value(params)]
            return record
        }
        // 1 is dominated by 0; 3 breaks the bound; 4 ties 2 exactly (both on the front); 5 failed.
        let records = [trial(0, 0.5, 100_000), trial(1, 0.4, 120_000), trial(2, 0.3, 50_000), trial(3, 0.9, 300_000),
                       trial(4, 0.3, 50_000), trial(5, 0.99, 10, status: .failed)]
        #expect(objectives.front(records).map(\.number) == [0, 2, 4])
        #expect(objectives.best(records)?.number == 0)
        let single = SearchObjectives([Monitor("val_accuracy")], constraints: [bound])
        #expect(single.best(records.map { var r = $0; r.values = nil; return r })?.number == 0)
        #expect(single.infeasibleNote([trial(3, 0.9, 300_000)]) == "no trial satisfied params<=200000 (1 completed trial); no best model is written")
    }
}
