"""The playground at GET /, in a real browser: headless Chromium (Debian's) driven by selenium
through Debian's chromedriver. Screenshots go to $DMS_TEST_ARTIFACTS/playground (default
.build/test-artifacts/playground) for a person to look at."""

import json
import os
import pathlib
import subprocess

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import EXAMPLES, ROOT

SAMPLE = EXAMPLES / "samples" / "digit-7-7-64.jpg"
ARTIFACTS = pathlib.Path(os.environ.get("DMS_TEST_ARTIFACTS", ROOT / ".build" / "test-artifacts")) / "playground"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def playground_server(start_server, test_models):
    server = start_server(
        "--models",
        f"digits={EXAMPLES / 'digits-mlp.model'}",
        f"add-mul={test_models['add-mul']}",
        f"identity={test_models['identity-rgb']}",
    )
    yield server
    assert server.stop() == 0, server.output


@pytest.fixture(scope="module")
def browser():
    assert os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK), "chromium and chromium-driver are missing; run scripts/bootstrap.sh"
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def open_page(browser, server, width=1200, height=1000):
    browser.set_window_size(width, height)
    browser.get(f"{server.url}/")
    WebDriverWait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "model-identity")))


def card(browser, name):
    return browser.find_element(By.ID, f"model-{name}")


def wait_for(browser, scope, selector, timeout=30):
    return WebDriverWait(browser, timeout).until(lambda _: scope.find_elements(By.CSS_SELECTOR, selector))


def screenshot(browser, name):
    path = ARTIFACTS / f"{name}.png"
    # The whole page, not only the window: the height the content needs.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(browser.get_window_size()["width"], max(height, 400))
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def test_page_lists_every_model_with_its_signature(browser, playground_server):
    response = requests.get(f"{playground_server.url}/", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text and "https://" not in response.text, "the page must fetch nothing from elsewhere"
    open_page(browser, playground_server)
    names = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".model h2")]
    assert names == ["digits", "add-mul", "identity"]
    signature = card(browser, "add-mul").find_element(By.CSS_SELECTOR, "table.sig").text
    assert "input0 a [0, 4] FP32" in signature and "output sum [0, 4] FP32" in signature
    # The JSON inputs come prefilled with a valid example of the right shape.
    assert card(browser, "add-mul").find_element(By.NAME, "input0").get_property("value") == "[[0,0,0,0]]"


def test_image_upload_shows_the_top_classes_beside_the_image(browser, playground_server):
    open_page(browser, playground_server)
    digits = card(browser, "digits")
    digits.find_element(By.NAME, "input0").send_keys(str(SAMPLE))
    digits.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    classes = wait_for(browser, digits, ".prediction-class")
    assert [element.text for element in classes][0] == "7"
    assert len(classes) == 5
    assert digits.find_element(By.CSS_SELECTOR, "img.preview").get_attribute("src").startswith("blob:")
    with SAMPLE.open("rb") as image:
        expected = requests.post(f"{playground_server.url}/digits/predict", files={"input0": image}, timeout=30).json()
    assert [element.text for element in classes] == [entry["class"] for entry in expected["prediction"][0]]
    screenshot(browser, "image-classifier")


def test_json_model_by_keyboard_only(browser, playground_server):
    open_page(browser, playground_server)
    add_mul = card(browser, "add-mul")
    first = add_mul.find_element(By.NAME, "input0")
    first.click()
    first.send_keys(Keys.CONTROL, "a")
    first.send_keys("[[1, 2, 3, 4]]")
    browser.switch_to.active_element.send_keys(Keys.TAB)
    second = browser.switch_to.active_element
    assert second.get_attribute("name") == "input1"
    second.send_keys(Keys.CONTROL, "a")
    second.send_keys("[[2, 2, 2, 2]]")
    second.send_keys(Keys.TAB)
    predict = browser.switch_to.active_element
    assert predict.text == "Predict"
    predict.send_keys(Keys.ENTER)
    outputs = wait_for(browser, add_mul, ".tensor-data")
    assert [json.loads(element.text) for element in outputs] == [[3, 4, 5, 6], [2, 4, 6, 8]]
    screenshot(browser, "json-model")


def test_curl_command_on_the_page_gives_the_same_answer(browser, playground_server):
    open_page(browser, playground_server)
    add_mul = card(browser, "add-mul")
    add_mul.find_element(By.CSS_SELECTOR, "details.curl summary").click()
    command = add_mul.find_element(By.CSS_SELECTOR, "pre.curl-command").text
    assert command.startswith(f"curl -X POST '{playground_server.url}/add-mul/predict' -H 'Content-Type: application/json' -d ")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    expected = requests.post(f"{playground_server.url}/add-mul/predict", json={"input0": [[0, 0, 0, 0]], "input1": [[0, 0, 0, 0]]}, timeout=30)
    assert json.loads(result.stdout) == expected.json()


def test_bad_input_shows_the_servers_message(browser, playground_server):
    open_page(browser, playground_server)
    add_mul = card(browser, "add-mul")
    field = add_mul.find_element(By.NAME, "input0")
    field.clear()
    field.send_keys("[[1, 2]]")
    add_mul.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    error = wait_for(browser, add_mul, ".error")[0].text
    assert error.startswith("400 InvalidInput: input0 ('a'): got shape [1, 2]"), error
    screenshot(browser, "bad-input")


def test_image_outputs_are_shown_as_images(browser, playground_server):
    open_page(browser, playground_server)
    identity = card(browser, "identity")
    identity.find_element(By.NAME, "input0").send_keys(str(SAMPLE))
    identity.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    image = wait_for(browser, identity, ".tensor img.preview")[0]
    assert image.get_attribute("src").startswith("data:image/jpeg;base64,")
    WebDriverWait(browser, 10).until(lambda _: browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 32)
    screenshot(browser, "image-output")


def test_phone_width_has_no_sideways_scrolling(browser, playground_server):
    open_page(browser, playground_server, width=390, height=844)
    digits = card(browser, "digits")
    digits.find_element(By.NAME, "input0").send_keys(str(SAMPLE))
    digits.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, digits, ".prediction-class")
    overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a phone screen"
    screenshot(browser, "phone")
