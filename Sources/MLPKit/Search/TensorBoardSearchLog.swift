import CTensorBoard
import Foundation

/// A search as TensorBoard's hparams plugin shows it (its HPARAMS tab): the experiment (the
/// hyperparameters with their domains, and the metrics) in the search's TensorBoard folder, and
/// for each trial a session in its own run folder, `DIR/<trial number>`, whose `train/` and
/// `validation/` folders hold the trial's epoch scalars, as Keras's `TensorBoard` callback
/// and `hp.KerasCallback` lay them out.
public struct TensorBoardSearchLog {
    public let directory: String

    /// Writes the experiment summary into `directory`.
    ///
    /// - Parameters:
    ///   - objective: the metric the search ranks trials by, shown first.
    public init(directory: String, space: SearchSpace, objective: Monitor, wallTime: Double = Date().timeIntervalSince1970) throws {
        self.directory = directory
        let file = try TensorBoardEventFile(directory: directory, wallTime: wallTime)
        try file.write(TensorBoardEvent.hparams(tag: "_hparams_/experiment",
                                                pluginData: Self.experiment(space: space, objective: objective, wallTime: wallTime),
                                                wallTime: wallTime))
    }

    /// Trial `number`'s run folder: the trial's number as the search folder writes it.
    public func trialDirectory(_ number: Int) -> String {
        (directory as NSString).appendingPathComponent(String(format: "%04d", number))
    }

    /// Writes a trial's session start (its values) into its run folder, and returns the file
    /// its end goes into.
    public func sessionStart(_ record: TrialRecord, wallTime: Double = Date().timeIntervalSince1970) throws -> TensorBoardEventFile {
        let file = try TensorBoardEventFile(directory: trialDirectory(record.number), wallTime: wallTime)
        let arena = ProtobufArena()
        let start = arena.message(Tensorboard__Hparams__SessionStartInfo.self, tensorboard__hparams__session_start_info__init)
        let entries = record.hyperparameters.values.sorted { $0.key < $1.key }.map { key, value in
            let entry = arena.message(Tensorboard__Hparams__SessionStartInfo__HparamsEntry.self,
                                      tensorboard__hparams__session_start_info__hparams_entry__init)
            entry.pointee.key = arena.string(key)
            entry.pointee.value = Self.value(value, arena)
            return entry
        }
        start.pointee.n_hparams = entries.count
        start.pointee.hparams = arena.array(entries)
        start.pointee.group_name = arena.string(String(format: "%04d", record.number))
        start.pointee.start_time_secs = wallTime
        let data = arena.message(Tensorboard__Hparams__HParamsPluginData.self, tensorboard__hparams__hparams_plugin_data__init)
        data.pointee.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO
        data.pointee.session_start_info = start
        try file.write(TensorBoardEvent.hparams(tag: "_hparams_/session_start_info", pluginData: protobufBytes(data), wallTime: wallTime))
        return file
    }

    /// Writes a trial's session end: success for a completed or pruned trial, failure for a failed one.
    public func sessionEnd(_ file: TensorBoardEventFile, status: TrialRecord.Status, wallTime: Double = Date().timeIntervalSince1970) throws {
        let arena = ProtobufArena()
        let end = arena.message(Tensorboard__Hparams__SessionEndInfo.self, tensorboard__hparams__session_end_info__init)
        end.pointee.status = switch status {
        case .completed, .pruned: TENSORBOARD__HPARAMS__STATUS__STATUS_SUCCESS
        case .failed: TENSORBOARD__HPARAMS__STATUS__STATUS_FAILURE
        case .running, .waiting: TENSORBOARD__HPARAMS__STATUS__STATUS_RUNNING
        }
        end.pointee.end_time_secs = wallTime
        let data = arena.message(Tensorboard__Hparams__HParamsPluginData.self, tensorboard__hparams__hparams_plugin_data__init)
        data.pointee.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO
        data.pointee.session_end_info = end
        try file.write(TensorBoardEvent.hparams(tag: "_hparams_/session_end_info", pluginData: protobufBytes(data), wallTime: wallTime))
    }

    /// The metrics the HPARAMS tab tabulates, as (run folder, tag): the objective first.
    public static func metrics(objective: Monitor) -> [(group: String, tag: String)] {
        func metric(_ name: String) -> (group: String, tag: String) {
            name.hasPrefix("val_") ? ("validation", "epoch_" + name.dropFirst(4)) : ("train", "epoch_" + name)
        }
        var result = [metric(objective.name)]
        for name in ["val_accuracy", "val_loss", "accuracy", "loss"] where name != objective.name { result.append(metric(name)) }
        return result
    }

    static func experiment(space: SearchSpace, objective: Monitor, wallTime: Double) -> Data {
        let arena = ProtobufArena()
        let experiment = arena.message(Tensorboard__Hparams__Experiment.self, tensorboard__hparams__experiment__init)
        experiment.pointee.time_created_secs = wallTime
        let infos = space.entries.map { key, distribution in
            let info = arena.message(Tensorboard__Hparams__HParamInfo.self, tensorboard__hparams__hparam_info__init)
            info.pointee.name = arena.string(key)
            switch distribution {
            case .logUniform(let low, let high), .uniform(let low, let high):
                info.pointee.type = TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_FLOAT64
                info.pointee.domain_case = TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_INTERVAL
                info.pointee.domain_interval = interval(low, high, arena)
            case .int(let low, let high):
                info.pointee.type = TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_FLOAT64
                info.pointee.domain_case = TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_INTERVAL
                info.pointee.domain_interval = interval(Double(low), Double(high), arena)
            case .choice(let values):
                info.pointee.type = switch values.first {
                case .string?: TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_STRING
                case .bool?: TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_BOOL
                default: TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_FLOAT64
                }
                let list = arena.message(Google__Protobuf__ListValue.self, google__protobuf__list_value__init)
                let items = values.map { value($0, arena) }
                list.pointee.n_values = items.count
                list.pointee.values = arena.array(items)
                info.pointee.domain_case = TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_DISCRETE
                info.pointee.domain_discrete = list
            }
            return info
        }
        experiment.pointee.n_hparam_infos = infos.count
        experiment.pointee.hparam_infos = arena.array(infos)
        let metrics = metrics(objective: objective).map { group, tag in
            let name = arena.message(Tensorboard__Hparams__MetricName.self, tensorboard__hparams__metric_name__init)
            name.pointee.group = arena.string(group)
            name.pointee.tag = arena.string(tag)
            let info = arena.message(Tensorboard__Hparams__MetricInfo.self, tensorboard__hparams__metric_info__init)
            info.pointee.name = name
            info.pointee.dataset_type = group == "validation" ? TENSORBOARD__HPARAMS__DATASET_TYPE__DATASET_VALIDATION
                : TENSORBOARD__HPARAMS__DATASET_TYPE__DATASET_TRAINING
            return info
        }
        experiment.pointee.n_metric_infos = metrics.count
        experiment.pointee.metric_infos = arena.array(metrics)
        let data = arena.message(Tensorboard__Hparams__HParamsPluginData.self, tensorboard__hparams__hparams_plugin_data__init)
        data.pointee.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT
        data.pointee.experiment = experiment
        return protobufBytes(data)
    }

    private static func interval(_ low: Double, _ high: Double, _ arena: ProtobufArena) -> UnsafeMutablePointer<Tensorboard__Hparams__Interval> {
        let interval = arena.message(Tensorboard__Hparams__Interval.self, tensorboard__hparams__interval__init)
        interval.pointee.min_value = low
        interval.pointee.max_value = high
        return interval
    }

    /// A value as `google.protobuf.Value`: numbers as `number_value`, as the hparams API writes them.
    private static func value(_ value: HyperValue, _ arena: ProtobufArena) -> UnsafeMutablePointer<Google__Protobuf__Value> {
        let result = arena.message(Google__Protobuf__Value.self, google__protobuf__value__init)
        switch value {
        case .int(let v):
            result.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE
            result.pointee.number_value = Double(v)
        case .double(let v):
            result.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE
            result.pointee.number_value = v
        case .string(let v):
            result.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE
            result.pointee.string_value = arena.string(v)
        case .bool(let v):
            result.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE
            result.pointee.bool_value = v ? 1 : 0
        }
        return result
    }
}
