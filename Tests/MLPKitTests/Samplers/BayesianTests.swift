import Foundation
@testable import MLPKit
import Testing

/// Bayesian optimization: the Gaussian process against hand-computed values, and the search
/// concentrating near a known optimum where random search does not.
@Suite struct BayesianTests {
    /// One observation: the Matérn 5/2 kernel gives the prediction in closed form. With a single
    /// point the normalised score is 0, so the mean is the score everywhere, and the deviation is
    /// 0 (the scores' spread counts as 1 when they have none) times sqrt(1 − k²/(1 + alpha)).
    /// With two points at the ends of [0, 1] and scores −1 and 1 (normalised to ±1), the mean
    /// at each point is the score (within alpha), and halfway it is 0 by symmetry.
    @Test func gaussianProcessByHand() throws {
        let one = try #require(GaussianProcess(points: [[0.3]], scores: [5], alpha: 1e-4))
        let (means, deviations) = one.predict([[0.3], [0.9]])
        #expect(abs(means[0] - 5) < 1e-12 && abs(means[1] - 5) < 1e-12)
        let r = 5.0.squareRoot() * 0.6 / one.lengthScale
        let k = (1 + r + r * r / 3) * exp(-r)
        #expect(abs(deviations[1] - (1 - k * k / (1 + 1e-4)).squareRoot()) < 1e-9, "\(deviations)")
        #expect(deviations[0] < 0.02)

        let two = try #require(GaussianProcess(points: [[0], [1]], scores: [-1, 1], alpha: 1e-6))
        let (m, s) = two.predict([[0], [1], [0.5]])
        #expect(abs(m[0] + 1) < 1e-4 && abs(m[1] - 1) < 1e-4 && abs(m[2]) < 1e-12, "\(m)")
        #expect(s[0] < 0.01 && s[2] > s[0], "\(s)")
    }

    @Test func concentratesNearTheOptimum() {
        let objective = Monitor("val_accuracy")
        // The first 3 per dimension are the random search's own draws.
        let bayes = TPETests.againstRandom(seeds: 1...3, count: 35, randomStart: 15, late: 15) {
            BayesianSampler(space: TPETests.space, seed: $0, objective: objective)
        }
        #expect(TPETests.mean(bayes.late) > TPETests.mean(bayes.randomLate) + 0.15, "Bayesian \(bayes.late), random \(bayes.randomLate)")
        #expect(TPETests.mean(bayes.best) > TPETests.mean(bayes.randomBest), "Bayesian \(bayes.best), random \(bayes.randomBest)")
    }
}
