import Foundation
import Testing
@testable import MLPKit

/// `model.summary()`'s table, against counts worked by hand: a Dense layer has inputs × units
/// + units weights; BatchNormalization four per unit, of which the moving mean and variance
/// (two per unit) are not trainable; sizes are 4 bytes a weight in powers of 1024.
@Suite struct ModelSummaryTests {
    @Test func baselineCounts() {
        let model = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 128, activation: .relu)], classes: 100, seed: 1)
        #expect(ModelSummary.rows(model).map(\.parameters) == [3072 * 128 + 128, 128 * 100 + 100])
        let table = ModelSummary.table(model)
        #expect(table.contains("Total params: 406,244 (1.55 MB)"), "\(table)")
        #expect(table.contains("Non-trainable params: 0 (0.00 B)"))
        #expect(table.contains("(None, 128)") && table.contains("393,344"))
    }

    @Test func batchNormalizationCounts() {
        let model = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 64, activation: .relu)], classes: 10,
                                   batchNorm: true, seed: 1)
        #expect(ModelSummary.rows(model).map(\.parameters) == [3072 * 64 + 64, 4 * 64, 64 * 10 + 10])
        let table = ModelSummary.table(model)
        // 197,578 weights × 4 bytes = 790,312 B = 771.79 KB; 128 moving statistics = 512 B.
        #expect(table.contains("Total params: 197,578 (771.79 KB)"), "\(table)")
        #expect(table.contains("Trainable params: 197,450 (771.29 KB)"), "\(table)")
        #expect(table.contains("Non-trainable params: 128 (512.00 B)"), "\(table)")
    }
}
