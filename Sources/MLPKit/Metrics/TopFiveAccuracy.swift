/// The fraction of samples whose class is among the five most probable (among all of them when
/// there are fewer classes), as Keras's `TopKCategoricalAccuracy(k=5)`.
public enum TopFiveAccuracy: RegisteredMetric {
    public static let key = "top5_accuracy"
    public static let label = "top-5 accuracy"
    public static let position = 0

    public static func value(probabilities: [Float], labels: [Int], classes: Int) -> Double {
        Classification.topKAccuracy(probabilities, labels: labels, classes: classes, k: min(5, classes))
    }
}
