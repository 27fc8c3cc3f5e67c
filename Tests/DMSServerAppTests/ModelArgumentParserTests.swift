import DMSCore
import DMSServerApp
import DMSRuntime
import Testing

@Suite("--models parsing")
struct ModelArgumentParserTests {
    private func names(_ arguments: [String]) throws -> [String] {
        try ModelArgumentParser.parse(arguments).map { "\($0.name)=\($0.location)" }
    }

    @Test func separateArguments() throws {
        #expect(try names(["a=x.model", "b=http://h/m.model"]) == ["a=x.model", "b=http://h/m.model"])
    }

    @Test func theSeedsCommaForm() throws {
        #expect(try names(["resnet-18=file://models/resnet-18,", "vgg16=file://models/vgg16"]) == ["resnet-18=file://models/resnet-18", "vgg16=file://models/vgg16"])
        #expect(try names(["a=x, b=y"]) == ["a=x", "b=y"])
        #expect(try names(["a=x,b=y,  c=z"]) == ["a=x", "b=y", "c=z"])
    }

    @Test func otherCommasBelongToTheLocation() throws {
        #expect(try names(["a=http://h/m?x=1,2"]) == ["a=http://h/m?x=1,2"])
        #expect(try names(["a=dir,with,commas/m.model"]) == ["a=dir,with,commas/m.model"])
        #expect(try names(["a=/p/m.model,"]) == ["a=/p/m.model,"])
        #expect(try names(["a=k=v"]) == ["a=k=v"])
    }

    @Test(arguments: ["no-equals", "=x", "a=", ".hidden=x", "a b=x", "ping=x", "api-description=x", "ünï=x"])
    func refusesBadPairs(argument: String) {
        #expect(throws: DMSError.self) { try ModelArgumentParser.parse([argument]) }
    }

    @Test func refusesDuplicateNames() {
        #expect(throws: DMSError.self) { try ModelArgumentParser.parse(["a=x", "a=y"]) }
    }

    @Test(arguments: ["resnet-18", "a.b_c-1", "A", "9"])
    func acceptsNames(name: String) throws {
        try ModelSpec.validateName(name)
    }
}
