"""Personas at text level: the line chosen for each agent question, read-backs confirmed when
right and corrected when wrong, and effects judged against the persona's true facts."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from worker.simulate.persona import Behaviours, Facts, Persona, PersonaAnswers, digits_said, judge
from worker.simulate.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
DANA = Facts(name="Dana Whitfield", phone="5104827391", area="Oakland", budget=900000, listing="Grand Avenue",
             time="2 PM")
MARIA = Facts(policy_number="4821", date_of_birth=date(1984, 3, 12), card_number="4539148803436467",
              premium_cents=128400)


def answers(facts: Facts = DANA, flow: str = "real_estate", **behaviours: bool) -> PersonaAnswers:
    return PersonaAnswers(Persona(facts=facts, behaviours=Behaviours(**behaviours)), flow)


def test_each_question_is_answered_from_the_facts() -> None:
    a = answers()
    assert a.answer("Hi, this is Maya from Bloom Realty. Who am I speaking with?") == "Hi, my name is Dana Whitfield."
    assert a.answer("Thanks, Dana. What's the best phone number to reach you?") == (
        "It's five one oh, four eight two, seven three nine one.")
    assert a.answer("Which area are you looking in?") == "I'm looking in Oakland."
    assert a.answer("And what's your budget?") == "My budget is about 900 thousand dollars."
    assert a.answer("I found 3: ... Which of those homes would you like to see?") == (
        "The one on Grand Avenue, tomorrow please.")
    assert a.answer("On Friday I have 11 AM and 2 PM. Which time works for you?") == "2 PM works for me."
    assert a.answer("You're booked. Is there anything else I can help you with?") == "No, that's all. Thanks, bye."
    assert a.answer("Thanks for calling. Goodbye!") is None


def test_read_backs_are_confirmed_when_right_and_corrected_when_wrong() -> None:
    a = answers()
    assert a.answer("Got it. I have 5 1 0, 4 8 2, 7 3 9 1. Is that right?") == "Yes, that's right."
    assert a.answer("I have 5 1 0, 4 8 2, 7 3 9 9. Is that right?") == (
        "No, the last part is seven three nine one.")
    assert a.answer("I have 4 1 5, 4 8 2, 7 3 9 9. Is that right?") == (
        "No, it's five one oh, four eight two, seven three nine one.")
    assert a.answer("Shall I book Friday, November 27 at 2 PM for Dana Whitman?") == "No, my name is Dana Whitfield."
    assert a.answer("Shall I book Friday, November 27 at 11 AM for Dana Whitfield?") == "No, 2 PM, please."
    assert a.answer("Shall I book Friday, November 27 at 2 PM for Dana Whitfield?") == "Yes, please go ahead."
    assert (a.read_backs, a.corrections) == (6, 4)


def test_a_charge_is_confirmed_only_for_the_callers_card() -> None:
    a = answers(MARIA, "insurance")
    assert a.answer("What's your policy number?") == "Sure, my policy number is 4 8 2 1."
    assert a.answer("And your date of birth?") == "March twelfth, 1984."
    assert a.answer("To confirm, I'll charge $1,284.00 to the card ending in 6466. Shall I go ahead?").startswith(
        "No, the card is")
    assert a.answer("To confirm, I'll charge $1,284.00 to the card ending in 6467. Shall I go ahead?") == (
        "Yes, please go ahead.")


def test_asked_again_the_persona_says_it_differently() -> None:
    a = answers(MARIA, "insurance")
    first = a.answer("Can I have your policy number?")
    again = a.answer("Sorry, I didn't quite get that. Can I have your policy number?")
    assert first != again and again == "Four. Eight. Two. One."
    assert a.answer("I'm sorry, I keep getting that wrong. Could you say it one digit at a time, slowly? "
                    "Or I can have a colleague call you back.") == "Four. Eight. Two. One."


def test_behaviours_shape_the_lines() -> None:
    assert answers(self_correction=True).answer("Which area are you looking in?") == (
        "I'm looking in Berkeley, actually, Oakland.")
    assert answers(hesitation=True).answer("Which area are you looking in?") == "Um, so, I'm looking in, uh, Oakland."
    assert digits_said("4539148803436467", (4, 4, 4, 4)).startswith("four five three nine, one four")


def run(tool: str, ok: bool = True, **args: object) -> SimpleNamespace:
    return SimpleNamespace(name=tool, ok=ok, arguments=args)


def test_judge_fails_a_booking_with_a_wrong_phone_or_name() -> None:
    persona = Persona(facts=DANA)
    right = run("book_tour", listing_id="L-101", name="Dana Whitfield", phone="5104827391")
    assert judge(persona, "real_estate", [right]).completed
    wrong_phone = judge(persona, "real_estate", [run("book_tour", name="Dana Whitfield", phone="5104827399")])
    assert not wrong_phone.completed and "phone" in wrong_phone.wrong_effects[0]
    wrong_name = judge(persona, "real_estate", [run("book_tour", name="Dana Whitman", phone="5104827391")])
    assert not wrong_name.completed and "name" in wrong_name.wrong_effects[0]
    failed = judge(persona, "real_estate", [run("book_tour", ok=False, name="X", phone="1")])
    assert not failed.completed and failed.wrong_effects == []


def test_judge_fails_a_charge_of_a_wrong_amount() -> None:
    persona = Persona(facts=MARIA)
    args = {"policy_number": "POL-4821", "card_number": "••••••••••••6467"}
    assert judge(persona, "insurance", [run("charge_card", amount_cents=128400, **args)]).completed
    wrong = judge(persona, "insurance", [run("charge_card", amount_cents=100, **args)])
    assert not wrong.completed and "cents" in wrong.wrong_effects[0]


def test_the_shipped_persona_scenarios_load() -> None:
    tour = load_scenario(ROOT / "scenarios" / "persona_tour.yaml")
    assert tour.persona is not None and tour.caller == [] and tour.persona.voice.engine == "espeak-ng"
    renewal = load_scenario(ROOT / "scenarios" / "persona_renewal.yaml")
    assert renewal.persona is not None and renewal.persona.facts.premium_cents == 128400


def test_a_scenario_needs_lines_or_a_persona(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: x\nflow: insurance\n")
    with pytest.raises(ScenarioError, match="either `caller` lines or a `persona`"):
        load_scenario(path)


def test_asked_again_for_the_home_the_persona_names_its_position() -> None:
    a = answers()
    readout = ("I found 3: 1420 Lakeshore Ave for $489,000, 412 Grand Ave for $725,000 and 5830 College Ave "
               "for $895,000. Which of those homes would you like to see?")
    assert a.answer(readout) == "The one on Grand Avenue, tomorrow please."
    assert a.answer("Which of those homes would you like to see?") == "The second one, tomorrow please."
    assert a.answer("I'm sorry, I didn't get which one. You can also say the first, the second or the third one. "
                    "Or I can have a colleague call you back.") == "The second one, tomorrow please."


def test_asked_to_spell_the_persona_spells_the_word_it_heard_wrong() -> None:
    a = answers()
    assert a.answer("Shall I book Friday, November 27 at 2 PM for Gaina Whitfield?") == "No, my name is Dana Whitfield."
    assert a.answer("I'm sorry, I may have your name wrong. Could you spell it for me with a word for each letter, "
                    "like D as in Delta?") == (
        "D as in Delta, A as in Alpha, N as in November, A as in Alpha.")


def test_after_the_name_read_back_the_persona_spells_only_the_word_heard_wrong() -> None:
    # "Carlos" was heard right: spelling it again would change nothing (bench robustness)
    a = answers(DANA.model_copy(update={"name": "Carlos Mendes"}))
    assert a.answer("Thanks, Carlos. I have your name as Carlos Manns. Is that right?") == "No, my name is Carlos Mendes."
    assert a.answer("I'm sorry, I may have your name wrong. Could you spell it for me with a word for each letter, "
                    "like D as in Delta?") == (
        "M as in Mike, E as in Echo, N as in November, D as in Delta, E as in Echo, S as in Sierra.")


def test_asked_to_spell_after_the_time_the_persona_spells_and_does_not_say_its_time() -> None:
    # bench robustness (piper joe): "Could you spell it ...?" got "Eleven in the morning, please."
    a = answers(DANA.model_copy(update={"name": "Carlos Mendes", "time": "11 AM"}))
    assert a.answer("On Friday, November 27 I have 10 AM and 11 AM. Which time works for you?") == "11 AM works for me."
    assert a.answer("Shall I book Friday, November 27 at 11 AM for Carlos Menz?") == "No, my name is Carlos Mendes."
    assert a.answer("I'm sorry, I may have your name wrong. Could you spell it for me with a word for each letter, "
                    "like D as in Delta?") == (
        "M as in Mike, E as in Echo, N as in November, D as in Delta, E as in Echo, S as in Sierra.")


def test_a_read_back_asked_again_gets_a_plainer_yes() -> None:
    # "Yes, that's right." heard as "Yes, not right." twice: a person says just "Yes." next
    a = answers()
    read_back = "I have 5 1 0, 4 8 2, 7 3 9 1. Is that right?"
    assert [a.answer(read_back) for _ in range(3)] == ["Yes, that's right.", "Yes.", "Yes, correct."]
    assert a.answer("Shall I book Friday, November 27 at 2 PM for Dana Whitfield?") == "Yes, please go ahead."
    assert a.answer("Shall I book Friday, November 27 at 2 PM for Dana Whitfield?") == "Yes."


def test_asked_again_for_the_time_the_persona_says_it_in_words() -> None:
    # "11 AM works for me." misheard twice ("The land will now then work for me.")
    a = answers(DANA.model_copy(update={"time": "11 AM"}))
    assert a.answer("On Friday, November 27 I have 10 AM and 11 AM. Which time works for you?") == (
        "11 AM works for me.")
    assert a.answer("Sorry, I didn't quite get that. Which time works for you?") == "Eleven in the morning, please."
    assert a.answer("I'm sorry, I didn't get that. Could you say it another way? Or I can have a colleague call "
                    "you back.") == "Eleven in the morning, please."
    assert answers()._time_in_words() == "Two in the afternoon, please."


def test_an_offer_narrowed_to_a_part_of_the_day_is_answered_with_the_time_as_offered() -> None:
    # with the narrowed offer as Whisper's prompt, "11 AM, please." was read right in all 8 caller
    # voices; "Eleven in the morning, please." lost its "Eleven" again in espeak-ng en-gb
    a = answers(DANA.model_copy(update={"time": "11 AM"}))
    assert a.answer("On Friday, November 27 I have 10 AM and 11 AM. Which time works for you?") == (
        "11 AM works for me.")
    assert a.answer("Sorry, I didn't quite get that. Which time works for you?") == "Eleven in the morning, please."
    assert a.answer("In the morning I have 10 AM and 11 AM. Which time works for you?") == "11 AM, please."
    assert a.answer("I have nothing in the evening. I have 10 AM, 11 AM and 2 PM. Which time works for you?") == (
        "11 AM, please.")
    assert a.answer("In the morning I have 11 AM. Shall I book Friday, November 27 at 11 AM for Dana Whitfield?") == (
        "Yes, please go ahead.")


def test_asked_to_spell_letter_by_letter_the_persona_says_the_letters() -> None:
    a = answers(DANA.model_copy(update={"name": "Carlos Mendes"}))
    assert a.answer("Shall I book Friday, November 27 at 2 PM for Carlos Menz?") == "No, my name is Carlos Mendes."
    assert a.answer("Sorry, I still don't have it. Could you spell it once more, letter by letter?") == (
        "M, E, N, D, E, S.")


def test_asked_again_for_the_area_the_persona_says_it_plainly_then_spells_it() -> None:
    # "Um, so, I'm looking in, uh, Alameda." heard as "So I'm looking in a lane." every time
    a = answers(DANA.model_copy(update={"area": "Alameda"}), hesitation=True)
    assert a.answer("Which area are you looking in?") == "Um, so, I'm looking in, uh, Alameda."
    assert a.answer("Sorry, I didn't quite get that. Which area are you looking in?") == "Alameda."
    assert a.answer("I'm sorry, I didn't get that. Could you say it another way? Or I can have a colleague call "
                    "you back.") == "Alameda. A, L, A, M, E, D, A."


def test_a_goodbye_not_understood_is_said_again_plainly() -> None:
    a = answers()
    assert a.answer("You're booked. Is there anything else I can help you with?") == "No, that's all. Thanks, bye."
    assert a.answer("Sorry, I didn't quite get that. Is there anything else I can help you with?") == (
        "No, thank you. Goodbye.")
    assert a.answer("Which area are you looking in?") is None  # done: nothing more to say


def test_a_read_out_without_the_persona_s_home_gets_its_budget_again() -> None:
    # "900 thousand" heard as "$500,000": the search found only Lakeshore
    a = answers(DANA.model_copy(update={"listing": "College Avenue"}))
    assert a.answer("Let me look that up. I found 1: 1420 Lakeshore Ave for $489,000. Which of those homes would you "
                    "like to see?") == "I don't hear the one on College Avenue. My budget is about 900 thousand dollars."
    assert a.answer("I found 3: 1420 Lakeshore Ave for $489,000, 412 Grand Ave for $725,000 and 5830 College Ave for "
                    "$895,000. Which of those homes would you like to see?") == "The third one, tomorrow please."


def test_asked_another_way_for_a_card_the_persona_says_it_digit_by_digit() -> None:
    a = answers(MARIA, "insurance")
    a.answer("Your renewal premium is $1,284.00. Which card would you like to pay with? Please read me the number.")
    assert a.answer("I'm sorry, I didn't get that. Could you say it another way? Or I can have a colleague call "
                    "you back.").startswith("Four. Five. Three. Nine.")


def test_a_budget_said_back_wrong_with_the_listings_is_corrected() -> None:
    a = answers()
    assert a.answer("I found 1 in Oakland up to $500,000: 1420 Lakeshore Ave for $489,000. Which of those homes "
                    "would you like to see?") == "No, my budget is about 900 thousand dollars."
    assert a.answer("I couldn't find homes in Oakland up to $90,000. What else can I help with?") == (
        "No, my budget is about 900 thousand dollars.")
    assert a.answer("I found 3 in Oakland up to $900,000: 1420 Lakeshore Ave for $489,000, 412 Grand Ave for "
                    "$725,000 and 5830 College Ave for $850,000. Which of those homes would you like to see?") == (
        "The one on Grand Avenue, tomorrow please.")
