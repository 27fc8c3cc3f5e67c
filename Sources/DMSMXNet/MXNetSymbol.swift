import DMSCore
import Foundation

/// What the server reads from an MXNet `*-symbol.json` graph before handing it to the engine:
/// the variables (data inputs and weights), the output nodes, and the last operator.
struct MXNetSymbol {
    var variableNames: Set<String>
    /// The operator of each output node, in output order.
    var outputOperators: [String]
    var outputNames: [String]

    init(json data: Data, fileName: String) throws(DMSError) {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DMSError(.invalidModel, "\(fileName): not a JSON object; is it an MXNet symbol file?")
        }
        guard let nodes = root["nodes"] as? [[String: Any]], let heads = root["heads"] as? [[Int]], !heads.isEmpty else {
            throw DMSError(.invalidModel, "\(fileName): missing 'nodes' or 'heads'; is it an MXNet symbol file?")
        }
        variableNames = Set(nodes.compactMap { node in node["op"] as? String == "null" ? node["name"] as? String : nil })
        var operators: [String] = []
        var names: [String] = []
        for head in heads {
            guard let index = head.first, nodes.indices.contains(index) else {
                throw DMSError(.invalidModel, "\(fileName): 'heads' points at a node that does not exist")
            }
            operators.append(nodes[index]["op"] as? String ?? "")
            names.append("\(nodes[index]["name"] as? String ?? "output\(names.count)")_output")
        }
        outputOperators = operators
        outputNames = names
    }

    /// Operators whose outputs are already probabilities.
    static let softmaxOperators: Set<String> = ["SoftmaxOutput", "softmax", "SoftmaxActivation"]
}
