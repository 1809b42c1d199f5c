import Foundation

/// Measures where each training step's time goes (`--profile-steps FILE.json`): the parts
/// `StepProfile` names, timed as the steps run, written when training ends with the bytes the
/// optimizer's update and the batch's gathering move each step.
public final class StepProfiler: RegisteredCallback {
    public static let flag = "profile-steps"
    public static let options = [
        ExtensionOption.output(flag, help: "Time the parts of every training step (products, activations, loss, optimizer, batch gathering, "
            + "the threads' hand-offs) and write microseconds a step to this JSON file when training ends.", formats: [".json"]),
    ]
    public static let phase = CallbackPhase.records
    public static let recordsOptions = false

    public let path: String
    public private(set) var profile = StepProfile()

    public init(path: String) { self.path = path }

    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback {
        StepProfiler(path: values[flag]?.string ?? "")
    }

    public func trainBegin(_ context: TrainingContext) throws {
        profile = StepProfile()
        context.model.compute.profile = profile
    }

    public func trainEnd(logs: Logs, _ context: TrainingContext) throws {
        context.model.compute.profile = nil
        let parameters = context.model.trainableParameters.reduce(0) { $0 + $1.count }
        let slots = context.optimizer.slotGroups.flatMap { $0 }.count
        let input = context.model.inputWidth, batch = context.options.batchSize
        let report: JSONValue = [
            "steps": .int(profile.steps), "step_us": .double(profile.stepMicroseconds),
            "parts": .array(profile.microsecondsPerStep.map { ["part": .string($0.part.name), "us": .double($0.microseconds)] }),
            // Each parameter's value and gradient read, each slot read and written, the value written.
            "optimizer_bytes": .int(parameters * 4 * (3 + 2 * slots)),
            // A sample's bytes read and its floats written.
            "gather_bytes": .int(batch * input * 5),
        ]
        try AtomicFile.write(Data(report.text.utf8), to: path)
    }
}
