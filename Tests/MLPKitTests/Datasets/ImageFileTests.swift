import Foundation
import Testing
@testable import MLPKit

/// Decoding and resizing against TensorFlow (Fixtures/images/make.py): each PNG, JPEG, BMP and
/// GIF decodes to `tf.io.decode_image`'s exact bytes, in RGB and grey, and resizes to
/// `tf.image.resize`'s floats; each damaged file is one error naming it.
@Suite struct ImageFileTests {
    /// The fixture images; a missing folder leaves none, which the first test fails on.
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: fixture("images/decode"))) ?? []).sorted()
    let expected = (try? jsonFixture("images/expected.json")["decode"] as? [String: Any]) ?? [:]

    @Test func everyFixtureHasAnExpectation() throws {
        #expect(Self.files.count == 13)
        #expect(Set(Self.files) == Set(expected.keys))
    }

    @Test(arguments: files)
    func decodesAsTensorFlow(_ name: String) throws {
        let entry = try #require(expected[name] as? [String: Any], "no expectation for \(name)")
        for (mode, key) in [(ColorMode.rgb, "channels3"), (.grayscale, "channels1")] {
            let want = try #require(entry[key] as? [String: Any])
            let image = try DecodedImage(path: fixture("images/decode/" + name), colorMode: mode)
            if want["error"] != nil {
                // TensorFlow refuses grey GIF and BMP; stb_image's grey is the toolchain's own.
                #expect(mode == .grayscale && image.channels == 1 && image.pixels.count == image.height * image.width)
                continue
            }
            #expect([image.height, image.width, image.channels] == (try ints(want["shape"])), "\(name) \(key)")
            let digest = Digest(.sha256)
            image.pixels.withUnsafeBytes { digest.update($0) }
            let tensorFlow = "\(entry["first_pixels"] ?? "")"
            #expect(digest.hex == want["sha256"] as? String, "\(name) \(key): first bytes \(image.pixels.prefix(12)), TensorFlow's \(tensorFlow)")
        }
    }

    @Test(arguments: files)
    func resizesAsTensorFlow(_ name: String) throws {
        let entry = try #require(expected[name] as? [String: Any])
        let image = try DecodedImage(path: fixture("images/decode/" + name), colorMode: .rgb)
        let resized = image.resized(to: [5, 7])
        let want = try floats(entry["resized_5x7"])
        #expect(resized.count == want.count)
        #expect(maxDifference(resized, want) < 1e-3, "\(name)")
    }

    /// Resizing to the image's own size gives its pixels back, as half-pixel centres should.
    @Test func resizingToTheSameSizeKeepsThePixels() throws {
        let image = try DecodedImage(path: fixture("images/decode/rgb.png"), colorMode: .rgb)
        #expect(image.resized(to: [image.height, image.width]) == image.pixels.map(Float.init))
    }

    @Test(arguments: [
        ("truncated.png", "corrupt PNG"), ("truncated.jpg", "corrupt JPEG"), ("corrupt.png", "corrupt PNG"),
        ("corrupt.jpg", "corrupt JPEG"), ("empty.png", "an empty file"), ("text.png", "not a PNG, JPEG, GIF or BMP image"),
        ("huge.png", "claims 100000×100000 pixels"),
    ])
    func refusesDamagedFiles(_ name: String, _ phrase: String) throws {
        let path = fixture("images/bad/" + name)
        #expect(FileManager.default.fileExists(atPath: path))
        do {
            _ = try DecodedImage(path: path, colorMode: .rgb)
            Issue.record("\(name) decoded")
        } catch let error as MLPError {
            let text = error.description
            #expect(text.hasPrefix(path + ": ") && text.contains(phrase) && !text.contains("\n"), "\(text)")
        }
    }
}
